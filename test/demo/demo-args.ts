// `npm run demo -- [--keep] [--report FILE] [--events FILE] [--min-healthy-time D] [--stable-for D] [--id N]`: the demo's command line, parsed without
// side effects so that a typo is refused before anything boots.
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { resolve } from 'node:path'
import { DURATION_PATTERN } from '../../shared/change/duration.js'
import { labStableForProblem } from '../lab/lab-agents.js'
import { MAX_LAB_ID } from '../lab/lab-paths.js'

/** What the demo was asked to do. */
export interface DemoArgs {
  /** Leave the lab running afterwards (and print how to explore and remove it). */
  keep: boolean
  /** Write the migration's report here as JSON (an absolute path). */
  report?: string
  /** Write the migration's events (the breakdown's source) here as JSON (an absolute path). */
  events?: string
  /** The migration's minHealthyTime (`keyroll hsm migrate --min-healthy-time`); the lab's cluster strategy (1s) otherwise. */
  minHealthyTime?: string
  /** The lab agents' stability window (`lab up --agent-stable-for`); the lab's 1s otherwise. */
  stableFor?: string
  /** The lab id (default 0, the one `npm run lab -- …` uses without --id). */
  id: number
}

/** The parse: the arguments, or help was asked for (the text), or a usage error (the message and help). */
export type DemoArgsResult = { args: DemoArgs } | { help: string } | { error: string }

export const DEMO_DESCRIPTION = 'Boots the lab (3 Key Manager nodes with keyroll-agent, a 2-node external Key Manager, the coordinator), ' +
  'moves the cluster\'s root-key HSM onto the external Key Manager with `keyroll hsm migrate` while a client load runs, ' +
  'checks every node, and tears the lab down. Needs root (Debian 12).'

/** Parses `argv` (without node and the script); `cwd` resolves a relative --report. */
export function parseDemoArgs (argv: readonly string[], cwd: string): DemoArgsResult {
  let out = ''
  let parsed: DemoArgs | undefined
  const program = new Command('npm run demo --')
    .description(DEMO_DESCRIPTION)
    .option('--keep', 'leave the lab running afterwards (prints how to explore it and how to remove it)')
    .option('--report <file>', 'write the migration\'s report as JSON to this file')
    .option('--events <file>', 'write the migration\'s events as JSON to this file (the breakdown of its time is computed from them)')
    .option('--min-healthy-time <duration>', 'hold each node this long after its gate (passed to keyroll hsm migrate; default: the lab cluster\'s 1s)', (v: string) => {
      if (!new RegExp(DURATION_PATTERN).test(v)) throw new InvalidArgumentError('expected a duration such as 0s, 1s or 500ms')
      return v
    })
    .option('--stable-for <duration>', 'the agents\' stability window: how long each node\'s minkms must stay up before its verdict (default: the lab\'s 1s; the shipped agent\'s is 5s)', (v: string) => {
      const problem = labStableForProblem(v)
      if (problem !== undefined) throw new InvalidArgumentError(problem)
      return v
    })
    .option('--id <id>', `lab id, 0 to ${MAX_LAB_ID}`, (v: string) => {
      const n = Number(v)
      if (!/^\d+$/.test(v) || n > MAX_LAB_ID) throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_LAB_ID}`)
      return n
    }, 0)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => { out += s }, writeErr: (s) => { out += s } })
    .action((o: { keep?: boolean, report?: string, events?: string, minHealthyTime?: string, stableFor?: string, id: number }) => {
      parsed = {
        keep: o.keep === true,
        id: o.id,
        ...(o.report === undefined ? {} : { report: resolve(cwd, o.report) }),
        ...(o.events === undefined ? {} : { events: resolve(cwd, o.events) }),
        ...(o.minHealthyTime === undefined ? {} : { minHealthyTime: o.minHealthyTime }),
        ...(o.stableFor === undefined ? {} : { stableFor: o.stableFor })
      }
    })
  try {
    program.parse([...argv], { from: 'user' })
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e
    if (e.code === 'commander.helpDisplayed') return { help: out }
    return { error: out.trim() === '' ? e.message : out.trim() }
  }
  if (parsed === undefined) return { error: 'nothing parsed' }
  return { args: parsed }
}
