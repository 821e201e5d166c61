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
  t.match(m.message, /rolling phase B cannot work; node1 was rolled back and every node still has its local HSM\. Keep the local HSM \(keepLocalHsm, --keep-local-hsm\) or remove it from every node at once: an all-at-once phase B, with a write outage while every node restarts together \(keyroll hsm migrate … --phase-b all-at-once --allow-write-outage; API phaseB: "all-at-once", allowWriteOutage: true\)$/)
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
