// Shared plumbing of the CLI's commands: the config from flags, the root logger, the core
// (built by agent/deps.ts, or a test's fake), errors mapped to exit codes, and the spec file.
import { readFile } from 'node:fs/promises'
import { SECRET_PATHS, loadAgentConfig, type AgentConfig } from '../config.js'
import { SpecUnreadableError } from '../errors.js'
import type { Change } from '../../shared/change/change.js'
import type { ChangeDefaults } from '../../shared/change/validate-change.js'
import { parseChangeSpec } from '../../shared/change/parse-change-spec.js'
import type { ConfigFlag } from '../../shared/config-loader.js'
import { createLogger, maskSecrets, type Logger } from '../../shared/logger.js'
import { humanLogDestination } from './human-log.js'
import type { CoreMode, RunningCore } from '../core.js'
import { createCore } from '../deps.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'

export interface CommonOptions { config?: string, logLevel?: string }
export interface SpecOptions extends CommonOptions { spec: string }

function configFlags (o: CommonOptions & { listenHost?: string, listenPort?: string }): ConfigFlag[] {
  const flags: ConfigFlag[] = []
  if (o.logLevel !== undefined) flags.push({ path: ['log', 'level'], value: o.logLevel, source: '--log-level' })
  if (o.listenHost !== undefined) flags.push({ path: ['listen', 'host'], value: o.listenHost, source: '--listen-host' })
  if (o.listenPort !== undefined) flags.push({ path: ['listen', 'port'], value: o.listenPort, source: '--listen-port' })
  return flags
}

export async function loadConfig (o: CommonOptions & { listenHost?: string, listenPort?: string }, deps: CliDeps): Promise<AgentConfig> {
  return await loadAgentConfig({
    flags: configFlags(o),
    ...(o.config === undefined ? {} : { file: o.config }),
    ...(deps.env === undefined ? {} : { env: deps.env })
  })
}

export function rootLogger (config: AgentConfig, destination: { write: (line: string) => unknown } | undefined, level = config.log.level): Logger {
  return createLogger({
    level,
    base: { name: 'keyroll-agent', node: config.node },
    redact: SECRET_PATHS.map(p => `config.${p}`),
    ...(destination === undefined ? {} : { destination })
  })
}

/**
 * Runs a one-shot command against an in-process core and maps errors to exit codes. `mutating`:
 * the command may have written files, so an unexpected error leaves the node in an unknown state.
 */
export async function command (o: CommonOptions, io: CliIo, deps: CliDeps, mutating: boolean, run: (core: RunningCore, config: AgentConfig) => Promise<number>,
  mode: CoreMode = 'command'): Promise<number> {
  let core: RunningCore | undefined
  try {
    const config = await loadConfig(o, deps)
    // Warnings for the person at the terminal; with --log-level the daemon's JSON lines, as asked.
    const destination = deps.logDestination ?? (o.logLevel === undefined ? humanLogDestination(io.stderr) : io.stderr)
    const logger = rootLogger(config, destination, o.logLevel === undefined ? 'warn' : config.log.level)
    core = await (deps.createCore ?? createCore)(config, logger, { mode })
    return await run(core, config)
  } catch (err) {
    const code = reportError(io, err)
    return code === EXIT.failed && mutating && core !== undefined ? EXIT.needsAttention : code
  } finally {
    await core?.close()
  }
}

export function reportError (io: CliIo, err: unknown): number {
  const e = err as { code?: unknown, statusCode?: unknown, message?: unknown }
  const message = maskSecrets(String(e.message ?? err))
  const code = typeof e.code === 'string' ? `${e.code}: ` : ''
  io.stderr.write(`error: ${code}${message}\n`)
  if (typeof e.code === 'string' && e.code.startsWith('SHR_DAEMON_CONFIG_')) return EXIT.badInput
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return EXIT.badInput
  return EXIT.failed
}

/**
 * The spec file as a validated Change (lines in every error), with the agent config's defaults
 * where the spec is silent: the same road as a spec sent to the API.
 */
export async function readSpec (path: string, defaults: ChangeDefaults): Promise<Change> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new SpecUnreadableError(path, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
  }
  return parseChangeSpec(text, /\.json$/i.test(path) ? 'json' : 'yaml', defaults)
}
