// `keyroll hsm migrate|status|watch|pause|resume|abort|list`: the HSM migration through the
// coordinator's API (POST/GET /v1/hsm-migrations…). `migrate` reads the admin key from its file
// and sends it as `{ "$secret": … }`; with --api-key-out the generated API key goes to that file
// (0600) and nowhere else; then it follows the migration live and ends with the report per node
// (--report FILE writes it as JSON). Exit codes: 0 succeeded (a dry run: a real run would start),
// 1 failed or aborted (a dry run: refused, with the problems listed), 2 bad input or a 4xx.
import { writeFile } from 'node:fs/promises'
import { TERMINAL_HSM_MIGRATION_STATES, type HsmMigration, type HsmMigrationEvent, type HsmMigrationRequest, type HsmMigrationStartAnswer } from '../../shared/schemas/hsm-migration.js'
import { Secret } from '../../shared/secrets/secret.js'
import { readAdminKeyFile } from './admin-key-file.js'
import { withQuery, type CoordinatorApi } from './api-client.js'
import { strategyOf } from './api-commands.js'
import { reportError, withApi, type ApiOptions } from './command.js'
import { CliError } from './errors.js'
import { printDryRun, printMigration, printMigrations } from './hsm-output.js'
import { PlainMigrationRenderer, TtyMigrationRenderer } from './hsm-watch-renderers.js'
import { migrationReport } from './migration-report.js'
import { out, printJson } from './output.js'
import { reserveSecretFile, type SecretOutFile } from './secret-out-file.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'
import { SilentRenderer } from './watch-renderers.js'
import { defaultReconnectDelayMs, watchToEnd } from './watch.js'
import { cliName } from './cli-name.js'

/** The flags of `keyroll hsm migrate`, as commander hands them over. */
export interface MigrateFlags extends ApiOptions {
  cluster: string
  external: string
  enclave: string
  key: string
  adminKeyFile: string
  keepLocalHsm?: boolean
  replaceHsm?: boolean
  removeLocalSealedCopy?: boolean
  /** --phase-b rolling|all-at-once. */
  phaseB?: string
  allowWriteOutage?: boolean
  dryRun?: boolean
  apiKeyOut?: string
  report?: string
  /** The phases' rollout timings (the cluster's strategy and the defaults fill the rest). */
  healthyDeadline?: string
  progressDeadline?: string
  minHealthyTime?: string
  /** false with --no-watch. */
  watch?: boolean
}

/** `--phase-b` checked (undefined: not given, the coordinator's default, rolling). */
export function phaseBMode (value: string | undefined): 'rolling' | 'all-at-once' | undefined {
  if (value === undefined || value === 'rolling' || value === 'all-at-once') return value
  throw new CliError('CRD_CLI_USAGE', `--phase-b must be rolling or all-at-once, not "${value}"`)
}

/** `--external kms0:7373,kms1:7373` as a list; refuses empty entries and repeats. */
export function externalServers (value: string): string[] {
  const servers = value.split(',').map(s => s.trim())
  if (servers.some(s => s === '')) throw new CliError('CRD_CLI_USAGE', `--external must list host:port of each external Key Manager server, comma-separated (e.g. kms0:7373,kms1:7373), not "${value}"`)
  const twice = servers.find((s, i) => servers.indexOf(s) !== i)
  if (twice !== undefined) throw new CliError('CRD_CLI_USAGE', `--external lists ${twice} twice`)
  return servers
}

function migrationPath (id: string, action?: string): string {
  if (id === '') throw new CliError('CRD_CLI_USAGE', 'the HSM migration id is empty')
  return `/v1/hsm-migrations/${encodeURIComponent(id)}${action === undefined ? '' : `/${action}`}`
}

/** Options of {@link watchMigration}. */
export interface WatchMigrationOptions {
  json: boolean
  reconnectDelayMs: (attempt: number) => number
  /** Write the report (HsmMigrationReportSchema) here at the end. */
  report?: string
}

async function writeReport (path: string, m: HsmMigration): Promise<void> {
  try {
    await writeFile(path, JSON.stringify(migrationReport(m), null, 2) + '\n')
  } catch (err) {
    throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot write --report ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** Follows a migration to its end, then shows (or, with --json, prints) it; resolves with the exit code. */
export async function watchMigration (api: CoordinatorApi, id: string, io: CliIo, o: WatchMigrationOptions): Promise<number> {
  const terminal = TERMINAL_HSM_MIGRATION_STATES as readonly string[]
  const m = await watchToEnd<HsmMigration, HsmMigrationEvent>(api, {
    path: migrationPath(id),
    what: 'HSM migration',
    again: `${cliName()} hsm watch ${id}`,
    terminal,
    // A phase's rollout ending is a `rollout` event: only the migration's own state ends it.
    isEnd: e => e.type === 'migration' && terminal.includes((e.data as { state?: unknown } | undefined)?.state as string),
    renderer: first => o.json ? new SilentRenderer() : io.stdout.isTTY === true ? new TtyMigrationRenderer(io, first) : new PlainMigrationRenderer(io, first.id)
  }, o)
  if (o.json) printJson(io, m)
  if (o.report !== undefined) {
    await writeReport(o.report, m)
    if (!o.json) out(io, `report written to ${o.report}`)
  }
  return m.state === 'succeeded' ? EXIT.ok : EXIT.failed
}

/** The request body of `migrate` (the admin key as `{ "$secret": … }`). */
type MigrateStrategy = NonNullable<HsmMigrationRequest['strategy']>

/** The timing flags as the request's strategy (undefined: none given); a malformed duration is refused. */
function migrateStrategy (f: MigrateFlags): MigrateStrategy | undefined {
  const s = strategyOf({
    ...(f.healthyDeadline === undefined ? {} : { healthyDeadline: f.healthyDeadline }),
    ...(f.progressDeadline === undefined ? {} : { progressDeadline: f.progressDeadline }),
    ...(f.minHealthyTime === undefined ? {} : { minHealthyTime: f.minHealthyTime })
  })
  if (s === undefined) return undefined
  return {
    ...(s.healthyDeadline === undefined ? {} : { healthyDeadline: s.healthyDeadline }),
    ...(s.progressDeadline === undefined ? {} : { progressDeadline: s.progressDeadline }),
    ...(s.minHealthyTime === undefined ? {} : { minHealthyTime: s.minHealthyTime })
  }
}

function requestOf (f: MigrateFlags, external: string[], adminKey: Secret, revealApiKey: boolean, strategy: MigrateStrategy | undefined): HsmMigrationRequest {
  const phaseB = phaseBMode(f.phaseB)
  return {
    cluster: f.cluster,
    external,
    enclave: f.enclave,
    key: f.key,
    adminKey: { $secret: adminKey.reveal() },
    ...(f.keepLocalHsm === true ? { keepLocalHsm: true } : {}),
    ...(f.replaceHsm === true ? { replaceHsm: true } : {}),
    ...(f.removeLocalSealedCopy === true ? { removeLocalSealedCopy: true } : {}),
    ...(phaseB === undefined ? {} : { phaseB }),
    ...(f.allowWriteOutage === true ? { allowWriteOutage: true } : {}),
    ...(f.dryRun === true ? { dryRun: true } : {}),
    ...(revealApiKey ? { revealApiKey: true } : {}),
    ...(strategy === undefined ? {} : { strategy })
  }
}

/** The HSM commands, bound to the CLI's I/O and dependencies. */
export function hsmCommands (io: CliIo, deps: CliDeps) {
  const reconnectDelayMs = deps.reconnectDelayMs ?? defaultReconnectDelayMs
  const run = async (o: ApiOptions, fn: (api: CoordinatorApi) => Promise<number>): Promise<number> => await withApi(o, io, deps, fn)
  const show = <T>(o: ApiOptions, value: T, human: (v: T) => void): number => {
    if (o.json === true) printJson(io, value)
    else human(value)
    return EXIT.ok
  }

  const migrate = async (f: MigrateFlags): Promise<number> => {
    const dryRun = f.dryRun === true
    let external: string[]
    let adminKey: Secret
    let keyOut: SecretOutFile | undefined
    let strategy: MigrateStrategy | undefined
    try {
      external = externalServers(f.external)
      strategy = migrateStrategy(f)
      phaseBMode(f.phaseB)
      if (f.removeLocalSealedCopy === true && f.keepLocalHsm === true) {
        throw new CliError('CRD_CLI_USAGE', '--remove-local-sealed-copy runs after phase B, which --keep-local-hsm skips: drop one of them')
      }
      adminKey = await readAdminKeyFile(f.adminKeyFile)
      if (f.apiKeyOut !== undefined && !dryRun) keyOut = await reserveSecretFile(f.apiKeyOut, '--api-key-out')
    } catch (err) {
      return reportError(io, err)
    }
    if (f.removeLocalSealedCopy === true && !dryRun) {
      io.stderr.write('warning: --remove-local-sealed-copy: after phase B the local HSM\'s sealed copy of each node\'s root key is removed (CLUSTER:REMOVEHSM). ' +
        'This cannot be undone: from then on the cluster unseals only through the external Key Manager.\n')
    }
    if (dryRun && f.apiKeyOut !== undefined) io.stderr.write('note: --api-key-out is ignored in a dry run: nothing is created\n')
    let answered = false
    try {
      return await run(f, async api => {
        const answer = await api.post<HsmMigrationStartAnswer>('/v1/hsm-migrations', { json: requestOf(f, external, adminKey, keyOut !== undefined, strategy) })
        answered = true
        const { apiKey, ...view } = answer
        if (keyOut !== undefined) {
          if (apiKey === undefined) {
            await keyOut.discard()
            io.stderr.write(`warning: the coordinator did not answer the Admin identity's API key; ${keyOut.path} was not written\n`)
          } else {
            await keyOut.write(new Secret(apiKey))
            if (f.json !== true) out(io, `the Admin identity's API key is in ${keyOut.path} (mode 0600); it is not shown again`)
          }
        }
        if (answer.dryRun !== undefined) {
          if (f.json === true) printJson(io, view)
          else printDryRun(io, f.cluster, answer.dryRun)
          return answer.dryRun.ok ? EXIT.ok : EXIT.failed
        }
        const m = answer.migration
        if (m === undefined) throw new CliError('CRD_CLI_BAD_ANSWER', 'POST /v1/hsm-migrations answered neither a migration nor a dry run')
        if (f.watch === false) {
          return show(f, view, () => {
            out(io, `started HSM migration ${m.id} on cluster ${m.cluster} (${m.nodes.length} node${m.nodes.length === 1 ? '' : 's'}; external ${m.external.join(', ')})`)
            out(io, `follow it with: ${cliName()} hsm watch ${m.id}`)
          })
        }
        if (f.json !== true) out(io, `started HSM migration ${m.id} on cluster ${m.cluster}`)
        return await watchMigration(api, m.id, io, { json: f.json === true, reconnectDelayMs, ...(f.report === undefined ? {} : { report: f.report }) })
      })
    } finally {
      // No answer (refused, unreachable): no key was made, so the reserved file goes.
      if (!answered) await keyOut?.discard()
    }
  }

  return {
    migrate,

    status: async (o: ApiOptions & { id: string }) => await run(o, async api => show(o, await api.get<HsmMigration>(migrationPath(o.id)), m => { printMigration(io, m) })),

    watch: async (o: ApiOptions & { id: string, report?: string }) => await run(o, async api =>
      await watchMigration(api, o.id, io, { json: o.json === true, reconnectDelayMs, ...(o.report === undefined ? {} : { report: o.report }) })),

    steer: async (action: 'pause' | 'resume' | 'abort', o: ApiOptions & { id: string, phaseB?: string, allowWriteOutage?: boolean }) => {
      // resume --phase-b MODE [--allow-write-outage]: a failed migration goes on in that phase B mode.
      return await run(o, async api => {
        const phaseB = action === 'resume' ? phaseBMode(o.phaseB) : undefined
        const body = phaseB === undefined ? undefined : { phaseB, ...(o.allowWriteOutage === true ? { allowWriteOutage: true } : {}) }
        return show(o, await api.post<HsmMigration>(migrationPath(o.id, action), body === undefined ? undefined : { json: body }), m => { printMigration(io, m) })
      })
    },

    list: async (o: ApiOptions & { cluster?: string }) => await run(o, async api =>
      show(o, await api.get<HsmMigration[]>(withQuery('/v1/hsm-migrations', { cluster: o.cluster })), v => { printMigrations(io, v) }))
  }
}
