// A lab with keyroll as a whole (`startLab(t, { keyroll: true })`): the coordinator's API as the
// `keyroll` CLI and an operator call it (HTTPS verified against the lab CA, bearer tokens), the
// rollout's event stream, and what the acceptance tests measure on the nodes (InvocationIDs,
// the minkms journal of each node).
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import { lines } from '../../shared/ndjson-lines.js'
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import type { KeyrollFiles } from './lab-keyroll.js'
import type { Lab, LabNode } from './start-lab.js'
import type { TeardownHost } from './start-lab.js'

/** An answer of the coordinator. */
export interface Answer { status: number, text: string, json: unknown }

/** Who calls: the operator token, the viewer token, or no token at all. */
export type Caller = 'operator' | 'viewer' | 'none'

/** The coordinator of a keyroll lab. */
export interface KeyrollLab {
  files: KeyrollFiles
  call (method: string, path: string, body?: unknown, opts?: { as?: Caller, contentType?: string }): Promise<Answer>
  /** Plans `change` on the lab cluster and starts a rollout with its hash; resolves with the started rollout. */
  roll (change: unknown, strategy?: Record<string, unknown>): Promise<Rollout>
  /** Reads the rollout's events (NDJSON) from `from` until the stream ends (the rollout finished), calling `onEvent` as they arrive. */
  follow (id: string, onEvent?: (e: RolloutEvent) => void, from?: number): Promise<RolloutEvent[]>
  /** minkms's InvocationID on a node. */
  invocation (n: LabNode | string): Promise<string>
}

/** The coordinator of `lab` (started with `keyroll: true`). */
export async function keyrollLab (t: TeardownHost, lab: Lab): Promise<KeyrollLab> {
  const files = lab.state.keyroll
  if (files === undefined) throw new Error('the lab has no coordinator: start it with { keyroll: true }')
  const tokens: Record<Exclude<Caller, 'none'>, string> = {
    operator: (await readFile(files.operatorTokenFile, 'utf8')).trim(),
    viewer: (await readFile(files.viewerTokenFile, 'utf8')).trim()
  }
  const dispatcher = new Agent({ connect: { ca: await readFile(files.ca, 'utf8') }, bodyTimeout: 0 })
  t.teardown(async () => { await dispatcher.close() })
  const headers = (as: Caller, contentType?: string): Record<string, string> => ({
    ...(as === 'none' ? {} : { authorization: `Bearer ${tokens[as]}` }),
    ...(contentType === undefined ? {} : { 'content-type': contentType })
  })

  const call: KeyrollLab['call'] = async (method, path, body, opts = {}) => {
    const as = opts.as ?? 'operator'
    const raw = typeof body === 'string'
    const res = await request(`${files.url}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: headers(as, body === undefined ? undefined : opts.contentType ?? (raw ? 'application/yaml' : 'application/json')),
      ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) })
    })
    const text = await res.body.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    return { status: res.statusCode, text, json }
  }

  const follow: KeyrollLab['follow'] = async (id, onEvent, from = 0) => {
    const res = await request(`${files.url}/v1/rollouts/${id}/events?from=${from}`, { dispatcher, headers: { ...headers('viewer'), accept: 'application/x-ndjson' } })
    if (res.statusCode !== 200) throw new Error(`events of ${id}: ${res.statusCode} ${await res.body.text()}`)
    const events: RolloutEvent[] = []
    for await (const raw of lines(res.body)) {
      const line = raw.trim()
      if (line === '' || line === '{}') continue
      const e = JSON.parse(line) as RolloutEvent
      events.push(e)
      onEvent?.(e)
    }
    return events
  }

  return {
    files,
    call,
    follow,
    roll: async (change, strategy) => {
      const plan = await call('POST', '/v1/plans', { cluster: files.cluster, change })
      if (plan.status !== 200) throw new Error(`plan: ${plan.status} ${plan.text}`)
      const { planHash } = plan.json as { planHash: string }
      const started = await call('POST', '/v1/rollouts', { cluster: files.cluster, change, planHash, ...(strategy === undefined ? {} : { strategy }) })
      if (started.status !== 201) throw new Error(`start: ${started.status} ${started.text}`)
      return started.json as Rollout
    },
    invocation: async (n) => (await lab.systemctl(n, 'show', '-p', 'InvocationID', '--value', 'minkms')).stdout.trim()
  }
}
