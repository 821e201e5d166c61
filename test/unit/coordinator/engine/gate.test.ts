// The step gate's HSM check (a rollout with expectHsm, the HSM migration's phase A): asked at the
// same time as the internode, client and write checks, the node's own cluster status must show the
// HSM configured AND holding a sealed copy of its root key; polled until the healthy deadline,
// reported as a `gate` event. The step passes only when every check passed; the first failed one
// in the order journal, internode, client, writes, HSM names the failure.
// Over the ClusterProbe double and a fake clock; the journal reading is stubbed to pass.
import t, { type Test } from 'tap'
import type { GateResult, NodeStep } from '../../../../shared/schemas/rollout.js'
import { EXTERNAL_HSM_NAME } from '../../../../shared/schemas/hsm-migration.js'
import { runGate } from '../../../../coordinator/engine/gate.js'
import { FakeClusterProbe } from '../../../../coordinator/gate/fake-cluster-probe.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const SOFT = 'hsm:minio:soft'
const BOTH = { configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [EXTERNAL_HSM_NAME, SOFT] }
const nodes: NodeRef[] = [1, 2, 3].map(i => ({ cluster: 'c1', name: `node${i}`, agentUrl: `https://10.0.0.1${i}:7480`, minkms: `10.0.0.1${i}:7373` }))
const [n1, n2] = nodes as [NodeRef, NodeRef, NodeRef]
const POLL = 1000
const DEADLINE_MS = 10_000

interface Reported { check: string, part: unknown, ok: boolean, message: string }

/** Runs the gate for node2 with the fake clock advanced until it resolves. */
async function gate (probe: FakeClusterProbe, expectHsm?: string): Promise<{ result: GateResult, reports: Reported[], clock: FakeClock }> {
  const clock = new FakeClock()
  const reports: Reported[] = []
  const step: NodeStep = { node: 'node2', state: 'gating', invocationBefore: 'inv0' }
  let result: GateResult | undefined
  const run = runGate({
    node: n2,
    cluster: nodes,
    step,
    deadline: clock.now() + DEADLINE_MS,
    entries: () => [],
    readJournal: () => ({ ok: true, final: true, message: 'ready line of the new run' }),
    probe,
    clock,
    pollMs: POLL,
    ...(expectHsm === undefined ? {} : { expectHsm }),
    signal: new AbortController().signal,
    report: async (check, part, ok, message) => { reports.push({ check, part, ok, message }) }
  }).then((r) => { result = r })
  await clock.advanceUntil(() => result !== undefined, { stepMs: 250, maxMs: DEADLINE_MS * 2 })
  await run
  if (result === undefined) throw new Error('the gate did not finish')
  return { result, reports, clock }
}

async function probe (t: Test): Promise<FakeClusterProbe> {
  const p = new FakeClusterProbe().addCluster(nodes)
  await p.provision('c1', n1)
  t.teardown(() => { p.assertNoPendingScripts() })
  return p
}

t.test('without expectHsm there is no HSM check', async t => {
  const p = await probe(t)
  const { result, reports } = await gate(p)
  t.equal(result.ok, true)
  t.equal(result.hsm, undefined)
  t.same(reports.map((r) => r.check), ['journal', 'internode', 'client', 'writeReady'])
  t.notOk(p.calls.some((c) => c.op === 'hsmStatus'), 'the HSM status is not asked')
})

t.test('configured and sealed: passes, reported with what the node shows', async t => {
  const p = await probe(t)
  p.setHsms(n2, { configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [EXTERNAL_HSM_NAME, SOFT] })
  const { result, reports } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, true, result.message)
  t.match(result.message, /node2 rejoined and serves clients .*, and its root key is sealed under HSM hsm:minio:minkms \(0 ms\)$/)
  t.same(result.hsm, { ok: true, message: 'HSM hsm:minio:minkms is configured and holds a sealed copy of the root key', ms: 0, name: EXTERNAL_HSM_NAME, configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [EXTERNAL_HSM_NAME, SOFT] })
  t.same(reports.map((r) => r.check).sort(), ['client', 'hsm', 'internode', 'journal', 'writeReady'])
  t.equal(reports[0]?.check, 'journal', 'the journal reading first')
  t.match(reports.find((r) => r.check === 'hsm'), { check: 'hsm', ok: true, message: 'hsm: HSM hsm:minio:minkms is configured and holds a sealed copy of the root key (0 ms)' })
  t.same(p.calls.filter((c) => c.op === 'hsmStatus'), [{ op: 'hsmStatus', node: 'node2' }], 'asked of the node itself, once')
})

t.test('the sealed copy shows up a little after start: polled until it does', async t => {
  const p = await probe(t)
  p.setHsms(n2, { configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [EXTERNAL_HSM_NAME, SOFT] })
  p.script(n2, 'hsmStatus', { hsms: { configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [SOFT] } }, { times: 2 })
  const { result } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, true, result.message)
  t.equal(result.hsm?.ms, 2 * POLL, 'two polls apart')
  t.equal(p.calls.filter((c) => c.op === 'hsmStatus').length, 3)
})

t.test('configured but never sealed: fails at the deadline, naming the HSM and what is missing', async t => {
  const p = await probe(t)
  p.setHsms(n2, { configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [SOFT] })
  const { result, reports } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, false)
  t.match(result.message, /^node2 does not hold its root key under HSM hsm:minio:minkms: HSM hsm:minio:minkms is configured but holds no sealed copy of the root key \(configured \[hsm:minio:soft, hsm:minio:minkms\], sealed \[hsm:minio:soft\]\) \(deadline passed after \d+ attempts\)$/)
  t.match(result.hsm, { ok: false, name: EXTERNAL_HSM_NAME, configured: [SOFT, EXTERNAL_HSM_NAME], sealed: [SOFT] })
  t.ok((result.hsm?.ms ?? 0) >= DEADLINE_MS - POLL, 'polled up to the deadline')
  t.ok(result.writeReady?.ok === true && result.client?.ok === true, 'the other checks passed and are kept')
  t.match(reports.find((r) => r.check === 'hsm'), { check: 'hsm', ok: false, message: /^hsm: HSM hsm:minio:minkms is configured but holds no sealed copy/ })
})

t.test('not configured, and neither configured nor sealed: each says so', async t => {
  const p = await probe(t)
  p.setHsms(n2, { configured: [SOFT], sealed: [EXTERNAL_HSM_NAME, SOFT] })
  const a = await gate(p, EXTERNAL_HSM_NAME)
  t.match(a.result.hsm?.message, /^HSM hsm:minio:minkms is not configured \(configured \[hsm:minio:soft\], sealed \[hsm:minio:minkms, hsm:minio:soft\]\)/)
  p.setHsms(n2, { configured: [SOFT], sealed: [SOFT] })
  const b = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(b.result.ok, false)
  t.match(b.result.hsm?.message, /^HSM hsm:minio:minkms is not configured and holds no sealed copy of the root key/)
})

t.test('a node whose status cannot be asked fails the check with the probe\'s reason', async t => {
  const p = await probe(t)
  p.script(n2, 'hsmStatus', { fail: 'probe-failed', message: 'access denied' }, { times: 11 })
  const { result } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, false)
  t.match(result.hsm, { ok: false, name: EXTERNAL_HSM_NAME, message: /hsmStatus: minkms of node node2 .*: access denied \(deadline passed after 11 attempts\)/ })
  t.notOk('configured' in (result.hsm ?? {}), 'nothing seen, nothing claimed')
})

t.test('the HSM check runs beside the others: decided while a slower check still polls', async t => {
  const p = await probe(t)
  p.setHsms(n2, BOTH)
  p.script(n2, 'ready', { ready: false }, { times: 3 })
  const { result, reports } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, true, result.message)
  t.equal(result.writeReady?.ms, 3 * POLL, 'write readiness passed on the fourth poll')
  t.equal(result.hsm?.ms, 0, 'the HSM check passed on its first ask, not after write readiness')
  t.ok(reports.findIndex((r) => r.check === 'hsm') < reports.findIndex((r) => r.check === 'writeReady'), 'and was reported first')
})

t.test('an earlier check failing decides the message even when the HSM check passed', async t => {
  const p = await probe(t)
  p.setHsms(n2, BOTH)
  p.script(n2, 'clientRoundTrip', { fail: 'probe-failed', message: 'refused' }, { times: 11 })
  const { result } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, false)
  t.match(result.message, /^client operations through node2 did not resume: /)
  t.match(result.hsm, { ok: true }, 'the HSM check\'s own answer is kept')
})

t.test('an earlier check and the HSM check both failing: the earlier one names the failure', async t => {
  const p = await probe(t)
  p.setHsms(n2, { configured: [SOFT], sealed: [SOFT] })
  p.script(n2, 'clientRoundTrip', { fail: 'probe-failed', message: 'refused' }, { times: 11 })
  const { result } = await gate(p, EXTERNAL_HSM_NAME)
  t.equal(result.ok, false)
  t.match(result.message, /^client operations through node2 did not resume: /)
  t.match(result.hsm, { ok: false, name: EXTERNAL_HSM_NAME })
})
