// The gate after a node's verdict, before the next node: the coordinator's own reading of the
// node's journal, then internode operations (the cluster status asked from ANOTHER node shows
// this node up and the same member list as the config names), client operations (a real round
// trip through this node with the probe identity) and write readiness (/v1/health/ready?write);
// for a rollout that expects an HSM (the HSM migration's phase A), the node's own cluster
// status shows that HSM configured and holding a sealed copy of its root key, so no node is left
// behind that could not start on the new HSM once the local one is gone.
// Each check is retried until the step's healthy deadline (apply start + healthyDeadline), and
// reported as a `gate` event with its timing as soon as it is decided.
//
// Internode, client, write readiness and the HSM check are independent reads, so they run at
// once once the journal reading passed: the gate takes the slowest of them, not their sum. The
// result is what asking them in turn would give: the first failed one in the order above names
// the failure, and the step passes only when every one passed (all end by the same deadline, so
// waiting for the others costs no time on a failure).
import type { Clock } from '../../shared/clock.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { GateResult, NodeStep } from '../../shared/schemas/rollout.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { ReadJournal } from '../gate/journal-reading.js'
import { retryUntil } from './retry.js'

/** What the gate needs for one node's step. */
export interface GateContext {
  node: NodeRef
  /** Every node of the cluster (this one included), as the config names them. */
  cluster: readonly NodeRef[]
  step: NodeStep
  /** Wall-clock ms after which a check that has not passed fails. */
  deadline: number
  /** The journal entries after the step's cursor received so far. */
  entries: () => readonly JournalEntry[]
  readJournal: ReadJournal
  probe: ClusterProbe
  clock: Clock
  pollMs: number
  /** The rollout's expectHsm: an HSM the node must show configured and sealing (no check when undefined). */
  expectHsm?: string
  signal: AbortSignal
  /** Reports one decided check (a `gate` event). */
  report: (check: string, part: unknown, ok: boolean, message: string) => Promise<void>
}

/** Runs the journal reading, then the cluster checks and the HSM check at once (the first failed in order decides). */
export async function runGate (c: GateContext): Promise<GateResult> {
  const { clock, signal, node } = c
  let journal: NonNullable<GateResult['journal']> = { ok: false, message: 'not read yet' }
  const journalRun = await retryUntil(clock, c.deadline, c.pollMs, async () => {
    const r = c.readJournal({
      before: c.step.invocationBefore ?? '',
      entries: c.entries(),
      agent: { restarted: c.step.result?.restarted ?? false, verdict: c.step.verdict }
    })
    journal = { ok: r.ok, message: r.message, ...(r.readyLineAt === undefined ? {} : { readyLineAt: r.readyLineAt }), ...(r.invocationId === undefined ? {} : { invocationId: r.invocationId }) }
    return { ok: r.ok, final: r.final, message: r.message }
  }, signal)
  // The last reading, with the retry's message when the deadline passed.
  if (!journalRun.ok) journal = { ...journal, ok: false, message: journalRun.message }
  await c.report('journal', { ...journal, ms: journalRun.ms }, journal.ok, `journal: ${journal.message}`)
  // The reading's message says itself how the journal and the verdict disagree.
  if (!journal.ok) return { ok: false, message: journal.message, journal }

  const [internode, client, writeReady, hsm] = await Promise.all([
    internodeCheck(c), clientCheck(c), writeReadyCheck(c), c.expectHsm === undefined ? undefined : hsmCheck(c, c.expectHsm)
  ])
  const parts = { journal, internode, client, writeReady, ...(hsm === undefined ? {} : { hsm }) }
  if (!internode.ok) return { ok: false, message: `${node.name} did not rejoin its cluster: ${internode.message}`, ...parts }
  if (!client.ok) return { ok: false, message: `client operations through ${node.name} did not resume: ${client.message}`, ...parts }
  if (!writeReady.ok) return { ok: false, message: `the cluster does not accept writes through ${node.name}: ${writeReady.message}`, ...parts }
  if (hsm !== undefined && !hsm.ok) return { ok: false, message: `${node.name} does not hold its root key under HSM ${hsm.name}: ${hsm.message}`, ...parts }
  const passed = `${node.name} rejoined and serves clients (internode ${internode.ms} ms, client ${client.ms} ms, writes ${writeReady.ms} ms)`
  if (hsm === undefined) return { ok: true, message: passed, ...parts }
  return { ok: true, message: `${passed}, and its root key is sealed under HSM ${hsm.name} (${hsm.ms} ms)`, ...parts }
}

type Internode = NonNullable<GateResult['internode']>
type Timed = NonNullable<GateResult['client']>

// Internode operations: the cluster status asked from another node (each attempt asks the next
// one) shows this node up and the member list the config names.
async function internodeCheck (c: GateContext): Promise<Internode> {
  const { node, signal } = c
  const others = c.cluster.filter((n) => n.name !== node.name)
  const expected = [...c.cluster.map((n) => n.minkms)].sort()
  let via = others[0]
  let turn = 0
  const run = others.length === 0
    ? { ok: true, message: 'single-node cluster: no other node to ask', ms: 0, attempts: 0 }
    : await retryUntil(c.clock, c.deadline, c.pollMs, async () => {
      via = others[turn++ % others.length] ?? via
      if (via === undefined) return { ok: false, message: 'no other node' }
      const members = await c.probe.members(via, { signal })
      const me = members.find((m) => m.endpoint === node.minkms)
      if (me === undefined) return { ok: false, message: `${via.name} does not list ${node.minkms} as a member` }
      if (!me.up) return { ok: false, message: `${via.name} shows ${node.name} (${node.minkms}) down` }
      const seen = members.map((m) => m.endpoint).sort()
      if (seen.join(',') !== expected.join(',')) return { ok: false, message: `${via.name} shows members ${seen.join(', ')}, expected ${expected.join(', ')}` }
      return { ok: true, message: `${via.name} shows ${node.name} up among ${seen.length} members` }
    }, signal)
  const internode = { ok: run.ok, message: run.message, ms: run.ms, ...(via === undefined ? {} : { via: via.name }) }
  await c.report('internode', internode, internode.ok, `internode: ${internode.message} (${internode.ms} ms)`)
  return internode
}

// Client operations: a real encrypt→decrypt round trip through the node with the probe identity.
async function clientCheck (c: GateContext): Promise<Timed> {
  const run = await retryUntil(c.clock, c.deadline, c.pollMs, async () => {
    await c.probe.clientRoundTrip(c.node, { signal: c.signal })
    return { ok: true, message: 'encrypt→decrypt round trip through the node matched' }
  }, c.signal)
  const client = { ok: run.ok, message: run.message, ms: run.ms }
  await c.report('client', client, client.ok, `client: ${client.message} (${client.ms} ms)`)
  return client
}

// Write readiness: minkms says the cluster accepts writes through the node.
async function writeReadyCheck (c: GateContext): Promise<Timed> {
  const run = await retryUntil(c.clock, c.deadline, c.pollMs, async () => {
    const ok = await c.probe.ready(c.node, { write: true, signal: c.signal })
    return { ok, message: ok ? '/v1/health/ready?write answered 200' : '/v1/health/ready?write answered not ready' }
  }, c.signal)
  const writeReady = { ok: run.ok, message: run.message, ms: run.ms }
  await c.report('writeReady', writeReady, writeReady.ok, `write readiness: ${writeReady.message} (${writeReady.ms} ms)`)
  return writeReady
}

/**
 * Polls the node's HSM status until `name` is configured and sealed. Neither is final: minkms
 * seals a newly configured HSM's copy of the root key while it starts, so the entry may show up
 * a little after the node answers.
 */
async function hsmCheck (c: GateContext, name: string): Promise<NonNullable<GateResult['hsm']>> {
  let seen: { configured: string[], sealed: string[] } | undefined
  const run = await retryUntil(c.clock, c.deadline, c.pollMs, async () => {
    const s = await c.probe.hsmStatus(c.node, { signal: c.signal })
    seen = { configured: [...s.configured], sealed: [...s.sealed] }
    const configured = s.configured.includes(name)
    const sealed = s.sealed.includes(name)
    if (configured && sealed) return { ok: true, message: `HSM ${name} is configured and holds a sealed copy of the root key` }
    const has = `configured [${s.configured.join(', ')}], sealed [${s.sealed.join(', ')}]`
    if (!configured && !sealed) return { ok: false, message: `HSM ${name} is not configured and holds no sealed copy of the root key (${has})` }
    if (!configured) return { ok: false, message: `HSM ${name} is not configured (${has})` }
    return { ok: false, message: `HSM ${name} is configured but holds no sealed copy of the root key (${has})` }
  }, c.signal)
  const hsm = { ok: run.ok, message: run.message, ms: run.ms, name, ...(seen === undefined ? {} : seen) }
  await c.report('hsm', hsm, hsm.ok, `hsm: ${hsm.message} (${hsm.ms} ms)`)
  return hsm
}
