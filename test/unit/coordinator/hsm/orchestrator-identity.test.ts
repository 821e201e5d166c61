// A phase B canary that restarts cleanly but whose peers refuse it: when its banners show its root
// identity changed (minkms deriving its root API key from the HSM), the migration halts with the
// cause and what to do, and an event names the change; when they do not, the failure reads as any
// other gate failure. Over the fakes: the agents' journals carry the banners in the safe form.
import t from 'tap'
import { withSafeApiKey } from '../../../../shared/minkms/journal-lines.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { ended, harness, sealEverywhere, type Harness } from './harness.js'

/**
 * node1's runs print these root keys in turn (phase A, the canary of phase B, its rollback), and
 * from its second run (phase B's canary) on, node2 and node3 show it down: its peers refuse it.
 */
function canaryRefused (h: Harness, keys: string[]): void {
  let run = 0
  const [node1, node2, node3] = h.nodes
  h.agents.runLines.set('node1', () => {
    if (run === 1) {
      const down = h.nodes.map((n) => ({ endpoint: n.minkms, up: n !== node1 }))
      for (const via of [node2!, node3!]) h.probe.script(via, 'members', { members: down }, { times: 1000 })
    }
    return [withSafeApiKey(`API Key        ${keys[Math.min(run++, keys.length - 1)] ?? ''}`)]
  })
}

t.test('the canary\'s root identity changed: halted with the cause and what to do', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const oldKey = generateApiKey('k1')
  const newKey = generateApiKey('k1')
  canaryRefused(h, [oldKey.key, newKey.key, oldKey.key])
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  const m = await h.until(id, ended)
  t.equal(m.state, 'failed')
  t.equal(m.phase, 'B')
  t.match(m.message, /^phase B failed: node1 restarted cleanly but its peers do not accept it: node[23] shows node1 \(.*\) down/)
  t.ok(m.message?.includes(`(identity ${oldKey.identity.slice(0, 11)}… → ${newKey.identity.slice(0, 11)}…)`), m.message ?? '')
  t.match(m.message, /rolling phase B cannot work; node1 was rolled back and every node still has its local HSM\. Keep the local HSM \(keepLocalHsm, --keep-local-hsm\) or remove it from every node at once: resume this migration with an all-at-once phase B, with a write outage while every node restarts together \(keyroll hsm resume m1 --phase-b all-at-once --allow-write-outage; API POST \/v1\/hsm-migrations\/m1\/resume \{"phaseB": "all-at-once", "allowWriteOutage": true\}; phase A is not run again\)$/)
  t.match(m.nodes[0]?.phases.B?.state, /^(reverted|failed)$/)
  t.same(m.nodes.slice(1).map((n) => n.phases.B?.state), ['skipped', 'skipped'], 'no other node touched in phase B')
  t.same(h.nodes.map((n) => h.agents.node(n).restarts), [3, 1, 1], 'node1: phase A, the canary and its rollback; the others phase A only')
  const events = await h.hsm.events(id)
  const change = events.find((e) => e.message.includes("root identity changed with phase B's change"))
  t.match(change?.data, { node: 'node1', identityBefore: oldKey.identity, identityAfter: newKey.identity }, 'an event names the identities')
  t.notOk(JSON.stringify(events).includes(oldKey.key) || JSON.stringify(events).includes(newKey.key), 'no key in any event')
})

t.test('peers refuse the canary but its identity is the same: the failure as any other', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  canaryRefused(h, [generateApiKey('k1').key])
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  const m = await h.until(id, ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase B failed on node node1: .*shows node1 .* down.*every node still has its local HSM where phase B did not pass$/)
  t.notMatch(m.message, /root API key changed/)
})

t.test('the halted rolling phase B resumed all at once: refused without allowWriteOutage, then every node committed together; phase A not run again', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const oldKey = generateApiKey('k1')
  const newKey = generateApiKey('k1')
  canaryRefused(h, [oldKey.key, newKey.key, oldKey.key])
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  const halted = await h.until(id, ended)
  t.equal(halted.state, 'failed')
  t.equal(halted.phaseB ?? 'rolling', 'rolling')
  const restartsBefore = h.nodes.map((n) => h.agents.node(n).restarts)

  const refusal = async (p: Promise<unknown>): Promise<string> => await p.then(() => 'resolved', (err: unknown) => `${(err as { code?: string }).code ?? ''}: ${(err as Error).message}`)
  t.match(await refusal(h.hsm.resume(id, 'op', { phaseB: 'all-at-once' })), /^CRD_HSM_WRITE_OUTAGE: .*allowWriteOutage/, 'the outage must be accepted, as at start')
  t.equal((await h.hsm.get(id))?.state, 'failed', 'the refusal changed nothing')
  t.equal((await h.hsm.get(id))?.phaseB ?? 'rolling', 'rolling')

  // The peers accept every node once all of them run without the local HSM.
  h.probe.clearScripts()
  const resumed = await h.hsm.resume(id, 'op', { phaseB: 'all-at-once', allowWriteOutage: true })
  t.equal(resumed.phaseB, 'all-at-once', 'the view shows the new mode')
  // (This resume follows a refused one: the refused resume must leave nothing registered that
  // would turn this one into a no-op.)
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.same(h.nodes.map((n, i) => h.agents.node(n).restarts - (restartsBefore[i] ?? 0)), [1, 1, 1], 'each node restarted once more: phase B only, phase A not again')
  t.ok(m.writeOutage !== undefined, 'the write outage measured')
  const events = await h.hsm.events(id)
  t.ok(events.some((e) => e.type === 'migration' && e.message.includes('phase B now all-at-once, write outage accepted')), 'the resume event names the mode')
  t.match(await refusal(h.hsm.resume(id, 'op', { phaseB: 'rolling' })), /^CRD_ROLLOUT_STATE: /, 'a finished migration cannot switch')
})
