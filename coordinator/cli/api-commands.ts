// The commands that call the coordinator's API: clusters, nodes, plan, rollout start|status|
// list|pause|resume|abort|promote|rollback|watch, audit. Each prints for humans or, with --json,
// exactly one JSON document (the API's answer), and resolves with the exit code.
import { DURATION_PATTERN } from '../../shared/change/duration.js'
import type { ClusterView, NodeHealth } from '../../shared/schemas/cluster.js'
import type { ClusterPlan, Rollout, Strategy } from '../../shared/schemas/rollout.js'
import type { AuditEntry } from '../store/rollout-store.js'
import { withQuery, type CoordinatorApi } from './api-client.js'
import { readChangeFile } from './change-file.js'
import { withApi, type ApiOptions } from './command.js'
import { CliError } from './errors.js'
import { out, printAudit, printClusters, printJson, printNodes, printPlan, printRollout, printRollouts } from './output.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'
import { defaultReconnectDelayMs, watchRollout } from './watch.js'
import { cliName } from './cli-name.js'

/** The strategy flags of `rollout start`, as commander hands them over. */
export interface StrategyFlags {
  maxParallel?: string
  canary?: boolean
  healthyDeadline?: string
  progressDeadline?: string
  minHealthyTime?: string
  failureBudget?: string
  autoRevert?: boolean
  onUnhealthy?: 'wait' | 'pause'
}

function integer (flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliError('CRD_CLI_USAGE', `${flag} must be a whole number from ${min} to ${max}, not "${value}"`)
  return n
}

function duration (flag: string, value: string): string {
  if (!new RegExp(DURATION_PATTERN).test(value)) throw new CliError('CRD_CLI_USAGE', `${flag} must be a duration such as 30s, 2m or 1m30s, not "${value}"`)
  return value
}

/** The strategy of the flags that were given (the cluster's config and the defaults fill the rest). */
export function strategyOf (f: StrategyFlags): Strategy | undefined {
  const s: Strategy = {}
  if (f.maxParallel !== undefined) s.maxParallel = integer('--max-parallel', f.maxParallel, 1, 64)
  if (f.canary === true) s.canary = true
  if (f.healthyDeadline !== undefined) s.healthyDeadline = duration('--healthy-deadline', f.healthyDeadline)
  if (f.progressDeadline !== undefined) s.progressDeadline = duration('--progress-deadline', f.progressDeadline)
  if (f.minHealthyTime !== undefined) s.minHealthyTime = duration('--min-healthy-time', f.minHealthyTime)
  if (f.failureBudget !== undefined) s.failureBudget = integer('--failure-budget', f.failureBudget, 0, 64)
  if (f.autoRevert === true) s.autoRevert = true
  if (f.onUnhealthy !== undefined) s.onUnhealthy = f.onUnhealthy
  return Object.keys(s).length === 0 ? undefined : s
}

function rolloutPath (id: string, action?: string): string {
  if (id === '') throw new CliError('CRD_CLI_USAGE', 'the rollout id is empty')
  return `/v1/rollouts/${encodeURIComponent(id)}${action === undefined ? '' : `/${action}`}`
}

/** The audit answer: a list, or an object holding one. */
function auditEntries (answer: unknown): AuditEntry[] {
  if (Array.isArray(answer)) return answer as AuditEntry[]
  const entries = (answer as { entries?: unknown } | undefined)?.entries
  if (Array.isArray(entries)) return entries as AuditEntry[]
  throw new CliError('CRD_CLI_BAD_ANSWER', 'GET /v1/audit answered something that is not a list of audit entries')
}

/** The API commands, bound to the CLI's I/O and dependencies. */
export function apiCommands (io: CliIo, deps: CliDeps) {
  const run = async (o: ApiOptions, fn: (api: CoordinatorApi) => Promise<number>): Promise<number> => await withApi(o, io, deps, fn)
  const show = <T>(o: ApiOptions, value: T, human: (v: T) => void): number => {
    if (o.json === true) printJson(io, value)
    else human(value)
    return EXIT.ok
  }
  return {
    clusters: async (o: ApiOptions) => await run(o, async api => show(o, await api.get<ClusterView[]>('/v1/clusters'), v => { printClusters(io, v) })),

    nodes: async (o: ApiOptions & { cluster?: string }) => await run(o, async api =>
      show(o, await api.get<NodeHealth[]>(withQuery('/v1/nodes', { cluster: o.cluster })), v => { printNodes(io, v) })),

    plan: async (o: ApiOptions & { file: string, cluster: string }) => await run(o, async api => {
      const f = await readChangeFile(o.file)
      const plan = f.format === 'yaml'
        ? await api.post<ClusterPlan>(withQuery('/v1/plans', { cluster: o.cluster }), { yaml: f.text })
        : await api.post<ClusterPlan>('/v1/plans', { json: { cluster: o.cluster, change: f.value } })
      return show(o, plan, p => { printPlan(io, p, o.file) })
    }),

    start: async (o: ApiOptions & StrategyFlags & { file: string, cluster: string, planHash: string, watch?: boolean }) => await run(o, async api => {
      if (!/^\S+$/.test(o.planHash)) throw new CliError('CRD_CLI_USAGE', '--plan-hash is empty; copy it from the output of keyroll plan')
      const strategy = strategyOf(o)
      const f = await readChangeFile(o.file)
      const rollout = await api.post<Rollout>('/v1/rollouts', { json: { cluster: o.cluster, change: f.value, planHash: o.planHash, ...(strategy === undefined ? {} : { strategy }) } })
      if (o.watch === true) {
        if (o.json !== true) out(io, `started rollout ${rollout.id} on cluster ${rollout.cluster}`)
        return await watchRollout(api, rollout.id, io, { json: o.json === true, reconnectDelayMs: deps.reconnectDelayMs ?? defaultReconnectDelayMs })
      }
      return show(o, rollout, r => {
        out(io, `started rollout ${r.id} on cluster ${r.cluster} (${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}, revision ${r.revision})`)
        out(io, `follow it with: ${cliName()} rollout watch ${r.id}`)
      })
    }),

    status: async (o: ApiOptions & { id: string }) => await run(o, async api => show(o, await api.get<Rollout>(rolloutPath(o.id)), r => { printRollout(io, r) })),

    list: async (o: ApiOptions & { cluster?: string }) => await run(o, async api =>
      show(o, await api.get<Rollout[]>(withQuery('/v1/rollouts', { cluster: o.cluster })), v => { printRollouts(io, v) })),

    steer: async (action: 'pause' | 'resume' | 'abort' | 'promote' | 'rollback', o: ApiOptions & { id: string }) => await run(o, async api =>
      show(o, await api.post<Rollout>(rolloutPath(o.id, action)), r => { printRollout(io, r) })),

    watch: async (o: ApiOptions & { id: string }) => await run(o, async api =>
      await watchRollout(api, o.id, io, { json: o.json === true, reconnectDelayMs: deps.reconnectDelayMs ?? defaultReconnectDelayMs })),

    audit: async (o: ApiOptions & { from?: string }) => await run(o, async api => {
      const from = o.from === undefined ? undefined : integer('--from', o.from, 1, Number.MAX_SAFE_INTEGER)
      const answer = await api.get<unknown>(withQuery('/v1/audit', { from }))
      const entries = auditEntries(answer)
      return show(o, answer, () => { printAudit(io, entries) })
    })
  }
}
