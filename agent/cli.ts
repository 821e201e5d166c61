// keyroll-agent's command line: `serve` runs the daemon; `plan`, `apply`, `status` and `recover`
// run the core in this process against the node's files, printing Ansible-style results. Together with
// agent/main.ts this is the composition root (STYLE R1): the only code that reads argv, builds
// the real core, listens and installs signal handling. Tests call runCli() with a fake core.
//
// Exit codes: 0 ok/changed · 1 failed (rolled back, or nothing was written; or plan/status
// failed) · 2 bad input, refused before anything was touched (flags, config, unreadable or
// invalid spec, a 4xx from the core such as a conflicting apply) · 3 rollback failed, or apply
// threw unexpectedly so the node's state is unknown: it needs attention.
import closeWithGrace from 'close-with-grace'
import { Command, CommanderError, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { Value } from 'typebox/value'
import { buildAgentApp, type TlsMaterial } from './app.js'
import { SECRET_PATHS, loadAgentConfig, type AgentConfig } from './config.js'
import type { AgentCore, ApplyResult, PlanResult } from './core.js'
import { CoreUnavailableError, SpecUnreadableError, TlsUnreadableError } from './errors.js'
import { toChangeSpec } from '../shared/change/change.js'
import { parseChangeSpec } from '../shared/change/parse-change-spec.js'
import type { ConfigFlag } from '../shared/config-loader.js'
import { createLogger, maskSecrets, type Logger } from '../shared/logger.js'
import { AgentStatusSchema } from '../shared/schemas/agent-status.js'

/** Exit codes (see the header). */
export const EXIT = { ok: 0, failed: 1, badInput: 2, needsAttention: 3 } as const

/** What `recover` did. */
export interface RecoverResult {
  /** none: no interrupted transaction; finished/undone: the files are now on `revision`. */
  action: 'none' | 'finished' | 'undone'
  /** The revision the files are on now. */
  revision: number
  message: string
}

/** A core the CLI can shut down. */
export interface RunningCore extends AgentCore {
  /** Stops watchers, followers and timers; resolves when nothing is left running. */
  close: () => Promise<void>
  /**
   * Finishes or undoes a transaction that was interrupted (agent killed mid-apply) from local
   * state only: no network, no coordinator, no restart, bounded in time. Run by the unit's
   * ExecStartPre before minkms starts at boot (systemd/README.md "Boot order"). Rejects when the
   * files cannot be brought to a consistent revision.
   */
  recover?: () => Promise<RecoverResult>
}

/**
 * How a core is built. `daemon`: the long-running agent (recovery with restart, boot convergence,
 * drift watching); `command`: one CLI command, recovery first, nothing in the background;
 * `recover`: the unit's ExecStartPre, nothing but `core.recover()` (files only, never a restart).
 */
export type CoreMode = 'daemon' | 'command' | 'recover'

/** Builds the real core (agent/deps.ts exports it under this name). */
export type CreateCore = (config: AgentConfig, logger: Logger, opts: { mode: CoreMode }) => Promise<RunningCore>

/** Where the CLI writes. */
export interface CliIo {
  stdout: { write: (s: string) => unknown }
  stderr: { write: (s: string) => unknown }
}

/** Dependencies a test replaces. */
export interface CliDeps {
  /** Default: `createCore` from agent/deps.ts, imported when first needed. */
  createCore?: CreateCore
  /** Default: process.env (read in shared/config-loader.ts). */
  env?: Readonly<Record<string, string | undefined>>
  /** Log lines; default stdout for serve, stderr for the other commands. */
  logDestination?: { write: (line: string) => unknown }
  /** serve: stop when this aborts instead of on SIGTERM/SIGINT (close-with-grace). */
  stopSignal?: AbortSignal
  /** serve: called with the bound address once listening. */
  onListening?: (address: string) => void
}

/** Runs one command line (without `node` and the script). Resolves with the exit code. */
export async function runCli (argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let exitCode: number = EXIT.ok
  const program = new Command('keyroll-agent')
    .description('keyroll agent: applies config changes to this Key Manager node as verified transactions')
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
    .action(async (o: SpecOptions) => { exitCode = await command(o, io, deps, false, async (core, node) => printPlan(io, await core.plan(await readSpec(o.spec)), core, node)) })
  withConfig(program.command('apply').description('apply a change as a transaction: write, restart, verify, roll back on failure'))
    .requiredOption('--spec <file>', 'change spec, YAML or JSON (.json)')
    .option('--check', 'plan only, like ansible --check; nothing is written')
    .option('--diff', 'also print the masked diff of each changed file')
    .option('-v, --verbose', 'print each step as it happens (stderr)')
    .action(async (o: SpecOptions & { check?: boolean, diff?: boolean, verbose?: boolean }) => {
      exitCode = await command(o, io, deps, o.check !== true, async (core, node) => {
        const change = await readSpec(o.spec)
        const onEvent = o.verbose === true ? (e: { step: string, status: string, message?: string }) => { io.stderr.write(maskSecrets(`  ${e.step}: ${e.status}${e.message === undefined ? '' : ` (${e.message})`}\n`)) } : undefined
        return printApply(io, await core.apply(change, { check: o.check === true, ...(onEvent === undefined ? {} : { onEvent }) }), core.unit, node, o)
      })
    })
  withConfig(program.command('recover').description('finish or undo an interrupted change from local state (run before minkms starts at boot)'))
    .action(async (o: CommonOptions) => { exitCode = await command(o, io, deps, true, async (core, node) => await recover(io, core, node), 'recover') })
  withConfig(program.command('status').description("show the node's state: unit, revisions, drift, last result"))
    .option('--json', 'print the status as JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => { exitCode = await command(o, io, deps, false, async core => printStatus(io, await core.status(), o.json === true)) })

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    // --help and --version are successes; every other parse error is bad input.
    return ['commander.helpDisplayed', 'commander.version'].includes(err.code) ? EXIT.ok : EXIT.badInput
  }
  return exitCode
}

interface CommonOptions { config?: string, logLevel?: string }
interface SpecOptions extends CommonOptions { spec: string }

function configFlags (o: CommonOptions & { listenHost?: string, listenPort?: string }): ConfigFlag[] {
  const flags: ConfigFlag[] = []
  if (o.logLevel !== undefined) flags.push({ path: ['log', 'level'], value: o.logLevel, source: '--log-level' })
  if (o.listenHost !== undefined) flags.push({ path: ['listen', 'host'], value: o.listenHost, source: '--listen-host' })
  if (o.listenPort !== undefined) flags.push({ path: ['listen', 'port'], value: o.listenPort, source: '--listen-port' })
  return flags
}

async function loadConfig (o: CommonOptions & { listenHost?: string, listenPort?: string }, deps: CliDeps): Promise<AgentConfig> {
  return await loadAgentConfig({
    flags: configFlags(o),
    ...(o.config === undefined ? {} : { file: o.config }),
    ...(deps.env === undefined ? {} : { env: deps.env })
  })
}

function rootLogger (config: AgentConfig, destination: { write: (line: string) => unknown } | undefined, level = config.log.level): Logger {
  return createLogger({
    level,
    base: { name: 'keyroll-agent', node: config.node },
    redact: SECRET_PATHS.map(p => `config.${p}`),
    ...(destination === undefined ? {} : { destination })
  })
}

async function resolveCreateCore (deps: CliDeps): Promise<CreateCore> {
  if (deps.createCore !== undefined) return deps.createCore
  // Imported by name at run time: the core is built in parallel and lives in agent/deps.ts.
  const url = new URL('./deps.js', import.meta.url).href
  let mod: { createCore?: unknown }
  try {
    mod = await import(url) as { createCore?: unknown }
  } catch (err) {
    throw new CoreUnavailableError((err as Error).message, { cause: err })
  }
  if (typeof mod.createCore !== 'function') throw new CoreUnavailableError('agent/deps.js does not export createCore')
  return mod.createCore as CreateCore
}

/**
 * Runs a one-shot command against an in-process core and maps errors to exit codes. `mutating`:
 * the command may have written files, so an unexpected error leaves the node in an unknown state.
 */
async function command (o: CommonOptions, io: CliIo, deps: CliDeps, mutating: boolean, run: (core: RunningCore, node: string) => Promise<number>,
  mode: CoreMode = 'command'): Promise<number> {
  let core: RunningCore | undefined
  try {
    const config = await loadConfig(o, deps)
    const logger = rootLogger(config, deps.logDestination ?? io.stderr, o.logLevel === undefined ? 'warn' : config.log.level)
    core = await (await resolveCreateCore(deps))(config, logger, { mode })
    return await run(core, config.node)
  } catch (err) {
    const code = reportError(io, err)
    return code === EXIT.failed && mutating && core !== undefined ? EXIT.needsAttention : code
  } finally {
    await core?.close()
  }
}

function reportError (io: CliIo, err: unknown): number {
  const e = err as { code?: unknown, statusCode?: unknown, message?: unknown }
  const message = maskSecrets(String(e.message ?? err))
  const code = typeof e.code === 'string' ? `${e.code}: ` : ''
  io.stderr.write(`error: ${code}${message}\n`)
  if (typeof e.code === 'string' && e.code.startsWith('SHR_DAEMON_CONFIG_')) return EXIT.badInput
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return EXIT.badInput
  return EXIT.failed
}

/** The spec as the wire form the API also takes: parsed and validated here, lines in errors. */
async function readSpec (path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new SpecUnreadableError(path, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
  }
  return toChangeSpec(parseChangeSpec(text, /\.json$/i.test(path) ? 'json' : 'yaml'))
}

function out (io: CliIo, text: string): void {
  io.stdout.write(maskSecrets(text.endsWith('\n') ? text : `${text}\n`))
}

function printDiffs (io: CliIo, plan: PlanResult): void {
  for (const f of plan.files.filter(f => f.changed)) out(io, `--- ${f.name} (${f.path})\n${f.diff}`)
}

function printPlan (io: CliIo, plan: PlanResult, core: RunningCore, nodeName: string): number {
  const node = `[${nodeName}]`
  out(io, plan.changed
    ? `changed: ${node} revision ${plan.revision} (would ${plan.restart ? `restart ${core.unit}` : 'not restart'})`
    : `ok: ${node} revision ${plan.revision} (no changes)`)
  printDiffs(io, plan)
  return EXIT.ok
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

function printApply (io: CliIo, r: ApplyResult, unit: string, nodeName: string, o: { check?: boolean, diff?: boolean }): number {
  const node = `[${nodeName}]`
  const head = `${node} revision ${r.revision}`
  if (r.result === 'ok') out(io, `ok: ${head}`)
  else if (r.result === 'changed') {
    const t = r.verdict?.timings
    const readyAt = t === undefined ? undefined : Math.max(t.readyLineAt ?? 0, t.healthyAt ?? 0) || t.verdictAt
    const how = o.check === true
      ? `check mode; would ${r.plan.restart ? `restart ${unit}` : 'not restart'}`
      : r.restarted
        ? `restarted ${unit}${t === undefined || readyAt === undefined ? '' : `, ready after ${seconds(readyAt - t.restartAt)}`}`
        : 'no restart'
    out(io, `changed: ${head} (${how})`)
  } else {
    const step = r.failedStep === undefined ? '' : ` (step ${r.failedStep})`
    const tail = r.result === 'rolled-back' ? '; rolled back' : r.result === 'rollback-failed' ? '; ROLLBACK FAILED, the node needs attention' : ''
    out(io, `failed: ${head}: ${r.message}${step}${tail}`)
    for (const v of [r.verdict, r.rollbackVerdict]) {
      if (v === undefined) continue
      out(io, `  verdict: ${v.summary}`)
      for (const l of v.lines) out(io, `    ${l.kind}: ${l.message}`)
    }
  }
  if (o.diff === true) printDiffs(io, r.plan)
  return r.result === 'ok' || r.result === 'changed' ? EXIT.ok : r.result === 'rollback-failed' ? EXIT.needsAttention : EXIT.failed
}

async function recover (io: CliIo, core: RunningCore, node: string): Promise<number> {
  if (core.recover === undefined) {
    out(io, `ok: [${node}] files consistent (the core recovers an interrupted change when it starts)`)
    return EXIT.ok
  }
  const r = await core.recover()
  out(io, r.action === 'none' ? `ok: [${node}] revision ${r.revision} (nothing to recover)` : `changed: [${node}] revision ${r.revision} (${r.action} an interrupted change: ${r.message})`)
  return EXIT.ok
}

function printStatus (io: CliIo, status: Awaited<ReturnType<AgentCore['status']>>, json: boolean): number {
  if (json) {
    // The same fields the API shows, nothing more.
    out(io, JSON.stringify(Value.Clean(AgentStatusSchema, Value.Clone(status))))
    return EXIT.ok
  }
  const u = status.unit.status
  const drift = status.drift.length === 0 ? 'no drift' : `DRIFT in ${status.drift.map(d => d.path).join(', ')}`
  out(io, `[${status.node}] ${status.unit.name} ${u === undefined ? 'state unknown' : `${u.activeState}/${u.subState}`}; revision ${status.appliedRevision} (desired ${status.desiredRevision})${status.applying ? '; applying' : ''}; ${drift}`)
  if (status.lastResult !== undefined) out(io, `  last: ${status.lastResult.result} revision ${status.lastResult.revision} at ${new Date(status.lastResult.at).toISOString()}: ${status.lastResult.message}`)
  out(io, `  checks: ${Object.entries(status.checks).map(([k, c]) => `${k} ${c.ok ? 'ok' : `FAILED (${c.message})`}`).join(', ')}`)
  return EXIT.ok
}

async function readTls (config: AgentConfig): Promise<TlsMaterial | undefined> {
  if (config.tls === undefined) return undefined
  const read = async (field: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path)
    } catch (err) {
      throw new TlsUnreadableError(field, path, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
    }
  }
  return { cert: await read('tls.cert', config.tls.cert), key: await read('tls.key', config.tls.key), clientCa: await read('tls.clientCa', config.tls.clientCa) }
}

/** The daemon: resolves when it stopped (in production close-with-grace exits the process). */
async function serve (o: CommonOptions & { listenHost?: string, listenPort?: string }, io: CliIo, deps: CliDeps): Promise<number> {
  let config: AgentConfig
  let tls: TlsMaterial | undefined
  try {
    config = await loadConfig(o, deps)
    tls = await readTls(config)
  } catch (err) {
    reportError(io, err)
    return EXIT.badInput
  }
  const log = rootLogger(config, deps.logDestination)
  let core: RunningCore
  try {
    core = await (await resolveCreateCore(deps))(config, log, { mode: 'daemon' })
  } catch (err) {
    log.fatal({ err }, 'core failed to start')
    return EXIT.failed
  }
  const app = buildAgentApp({ core, config, logger: log, ...(tls === undefined ? {} : { tls }) })
  let stopped: () => void = () => {}
  const done = new Promise<void>(resolve => { stopped = resolve })
  const stop = async (): Promise<void> => {
    try {
      await app.close()
    } finally {
      await core.close()
      stopped()
    }
  }
  const grace = deps.stopSignal === undefined
    ? closeWithGrace({ delay: 10_000, logger: { error: (m: unknown) => { log.error({ detail: m }, 'shutdown') } } }, async ({ err, signal }) => {
      if (err !== undefined) log.error({ err }, 'fatal error, shutting down')
      else log.info({ signal }, 'shutting down')
      await stop()
    })
    : undefined
  deps.stopSignal?.addEventListener('abort', () => { stop().catch((err: unknown) => { log.error({ err }, 'shutdown failed') }) }, { once: true })
  if (config.devInsecureHttp === true) log.warn({ host: config.listen.host }, 'plain http on loopback: development only')
  try {
    const address = await app.listen({ host: config.listen.host, port: config.listen.port })
    log.info({ address, tls: tls !== undefined }, 'listening')
    deps.onListening?.(address)
  } catch (err) {
    log.fatal({ err }, 'cannot listen')
    grace?.uninstall()
    await stop()
    return EXIT.failed
  }
  await done
  grace?.uninstall()
  return EXIT.ok
}
