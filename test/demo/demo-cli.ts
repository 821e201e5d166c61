// `npm run demo` (test/demo/run-demo.mjs builds when needed, then calls main): the arguments,
// Ctrl-C, the exit code. The first Ctrl-C (or SIGTERM, SIGHUP) stops the step in flight and the
// lab is torn down as after a failure (kept with --keep once it is up); a second one leaves at
// once and says how to remove what is left. Exit: 0 the migration and every check succeeded,
// 1 failed, 2 bad arguments or not root, 130 interrupted.
import { parseDemoArgs } from './demo-args.js'
import { runDemo, type DemoIo } from './demo.js'

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** Runs the demo with `argv` (without node and script) and resolves with the exit code. */
export async function main (argv: readonly string[], io: DemoIo = { out: (s) => { process.stdout.write(s) }, err: (s) => { process.stderr.write(s) } }): Promise<number> {
  const parsed = parseDemoArgs(argv, process.cwd())
  if ('help' in parsed) { io.out(parsed.help); return 0 }
  if ('error' in parsed) { io.err(parsed.error + '\n'); return 2 }
  const { args } = parsed
  const controller = new AbortController()
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      io.err(`\ndemo: ${sig}: stopping; the lab is ${args.keep ? 'kept if it is up' : 'torn down'} next (${sig} again to leave at once)\n`)
      controller.abort()
      return
    }
    io.err(`\ndemo: left at once; \`npm run lab -- down${args.id === 0 ? '' : ` --id ${args.id}`}\` removes the lab\n`)
    process.exit(130)
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    return await runDemo(args, io, controller.signal)
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal)
  }
}
