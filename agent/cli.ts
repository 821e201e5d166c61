// keyroll-agent's command line: `serve` runs the daemon; `plan`, `apply`, `status` and `recover`
// run the core in this process against the node's files, printing Ansible-style results;
// `reset-revisions` forgets a revision history that blocks every change. Together with
// agent/main.ts this is the composition root (one place wires real adapters, so everything below it
// can be tested with fakes): the only code that reads argv, builds
// the real core, listens and installs signal handling. Tests call runCli() with a fake core.
//
// Exit codes: 0 ok/changed · 1 failed (rolled back, or nothing was written; or plan failed; or
// status found a failed check or a drifted file) · 2 bad input, refused before anything was touched (flags, config, unreadable or
// invalid spec, a 4xx from the core such as a conflicting apply) · 3 rollback failed, or apply
// threw unexpectedly so the node's state is unknown: it needs attention.
import { Command, CommanderError, Option } from 'commander'
import { maskSecrets } from '../shared/logger.js'
import { changeDefaultsOf } from './config.js'
import { command, readSpec, type CommonOptions, type SpecOptions } from './cli/command.js'
import { oneLine, printApply, printPlan, printStatus, recover } from './cli/output.js'
import { resetRevisions } from './cli/reset-revisions.js'
import { serve } from './cli/serve.js'
import { EXIT, type CliDeps, type CliIo } from './cli/types.js'

export * from './cli/types.js'
export type { CreateCore, RunningCore } from './core.js'

/** Runs one command line (without `node` and the script). Resolves with the exit code. */
export async function runCli (argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let exitCode: number = EXIT.ok
  const program = new Command('keyroll-agent')
    .description('keyroll-agent: applies config changes to this Key Manager node as verified transactions')
    .exitOverride()
    .configureOutput({ writeOut: s => { io.stdout.write(s) }, writeErr: s => { io.stderr.write(s) } })
    .showHelpAfterError('(run keyroll-agent --help for usage)')
  const withConfig = (c: Command): Command => c
    .option('--config <file>', 'agent config file (default /etc/keyroll/agent.yaml or $KEYROLL_AGENT_CONFIG)')
    .addOption(new Option('--log-level <level>', 'overrides log.level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))

  withConfig(program.command('serve').description('run the agent daemon (HTTPS API, drift watch, boot convergence)'))
    .option('--listen-host <host>', 'overrides listen.host')
    .option('--listen-port <port>', 'overrides listen.port')
    .action(async (o: CommonOptions & { listenHost?: string, listenPort?: string }) => { exitCode = await serve(o, io, deps) })
  withConfig(program.command('plan').description('show what a change would do (masked diff); writes nothing'))
    .requiredOption('--spec <file>', 'change spec, YAML or JSON (.json)')
    .action(async (o: SpecOptions) => {
      exitCode = await command(o, io, deps, false, async (core, config) => {
        const plan = await core.plan(await readSpec(o.spec, changeDefaultsOf(config)))
        const code = printPlan(io, plan, core, config.node)
        // Planned against the files as they are; an interrupted apply on disk is undone first by
        // any apply, so the plan may differ then: say so. A restart the unit cannot take is
        // refused by apply: say that here too, before anyone tries.
        const checks = (await core.status().catch(() => undefined))?.checks
        if (checks !== undefined && !checks.config.ok) io.stderr.write(maskSecrets(`warning: ${checks.config.message}\n`))
        if (plan.restart && checks !== undefined && !checks.unit.ok) {
          io.stderr.write(maskSecrets(`warning: ${oneLine(checks.unit.message)}; apply refuses this change, which restarts ${core.unit}\n`))
        }
        return code
      }, 'read')
    })
  withConfig(program.command('apply').description('apply a change as a transaction: write, restart, verify, roll back on failure'))
    .requiredOption('--spec <file>', 'change spec, YAML or JSON (.json)')
    .option('--check', 'plan only, like ansible --check; nothing is written')
    .option('--diff', 'also print the masked diff of each changed file')
    .option('-v, --verbose', 'print each step as it happens (stderr)')
    .action(async (o: SpecOptions & { check?: boolean, diff?: boolean, verbose?: boolean }) => {
      exitCode = await command(o, io, deps, o.check !== true, async (core, config) => {
        const change = await readSpec(o.spec, changeDefaultsOf(config))
        const onEvent = o.verbose === true ? (e: { step: string, status: string, message?: string }) => { io.stderr.write(maskSecrets(`  ${e.step}: ${e.status}${e.message === undefined ? '' : ` (${e.message})`}\n`)) } : undefined
        return printApply(io, await core.apply(change, { check: o.check === true, ...(onEvent === undefined ? {} : { onEvent }) }), core.unit, config.node, o)
      })
    })
  withConfig(program.command('recover').description('finish or undo an interrupted change from local state (run before minkms starts at boot)'))
    .action(async (o: CommonOptions) => { exitCode = await command(o, io, deps, true, async (core, config) => await recover(io, core, config.node), 'recover') })
  withConfig(program.command('reset-revisions').description('forget the applied and desired revisions when they block every change; files are not touched'))
    .option('--yes', 'confirm')
    .action(async (o: CommonOptions & { yes?: boolean }) => { exitCode = await resetRevisions(o, io, deps) })
  withConfig(program.command('status').description("show the node's state: unit, revisions, drift, last result"))
    .option('--json', 'print the status as JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => { exitCode = await command(o, io, deps, false, async core => printStatus(io, await core.status(), o.json === true), 'read') })

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    // --help and --version are successes; every other parse error is bad input.
    return ['commander.helpDisplayed', 'commander.version'].includes(err.code) ? EXIT.ok : EXIT.badInput
  }
  return exitCode
}
