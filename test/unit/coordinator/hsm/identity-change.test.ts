// Telling from the journal's banners whether a phase B node's root identity changed: the run the
// gate judged against the run before the step (or the rollback's run), in the safe form the agent
// serves (`k1:*** (h1:…)`), and the sentence the migration halts with.
import t from 'tap'
import { withSafeApiKey } from '../../../../shared/minkms/journal-lines.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import type { JournalEntry } from '../../../../shared/schemas/journal.js'
import type { NodeStep } from '../../../../shared/schemas/rollout.js'
import { identitiesByRun, identityChangeMessage, identityChangeOf, refusedByPeers, shortIdentity } from '../../../../coordinator/hsm/identity-change.js'

const oldKey = generateApiKey('k1')
const newKey = generateApiKey('k1')
let cursor = 0
const line = (invocationId: string, message: string): JournalEntry => ({ cursor: `c${++cursor}`, realtimeUs: cursor, message: withSafeApiKey(message), invocationId })
const banner = (run: string, key: string): JournalEntry[] => [line(run, 'Version        2025-11-12T19-14-51Z'), line(run, `API Key        ${key}`), line(run, '=> Server is up and running...')]

function step (patch: Record<string, unknown> = {}): NodeStep {
  return {
    node: 'node1',
    state: 'reverted',
    invocationBefore: 'run-a',
    verdict: { ok: true } as NodeStep['verdict'],
    gate: { ok: false, message: 'node1 did not rejoin its cluster', journal: { ok: true, message: 'ready', invocationId: 'run-b' }, internode: { ok: false, message: 'node2 shows node1 (10.77.0.11:7373) down', ms: 15000, via: 'node2' } },
    ...patch
  } as NodeStep
}

t.test('the banners give each run its identity; the key never shows', async (t) => {
  const entries = [...banner('run-a', oldKey.key), ...banner('run-b', newKey.key), ...banner('run-c', oldKey.key)]
  t.notOk(JSON.stringify(entries).includes(oldKey.key) || JSON.stringify(entries).includes(newKey.key), 'the served lines hold no key')
  t.same([...identitiesByRun(entries)], [['run-a', oldKey.identity], ['run-b', newKey.identity], ['run-c', oldKey.identity]])
  t.same(identityChangeOf(step(), entries), { before: oldKey.identity, after: newKey.identity }, 'the run before the step against the judged one')
  t.same(identityChangeOf(step(), entries.slice(3)), { before: oldKey.identity, after: newKey.identity }, "the run before out of the tail: the rollback's run")
  t.equal(identityChangeOf(step(), [...banner('run-a', oldKey.key), ...banner('run-b', oldKey.key)]), undefined, 'the same identity: no change')
  t.equal(identityChangeOf(step(), banner('run-a', oldKey.key)), undefined, 'no banner of the judged run: unknown')
  t.equal(identityChangeOf(step({ gate: { ...step().gate, journal: { ok: true, message: 'ready' } } as NodeStep['gate'] }), entries), undefined, 'no judged run: unknown')
})

t.test('refused by peers: a clean restart whose internode check failed', async (t) => {
  t.ok(refusedByPeers(step()))
  t.notOk(refusedByPeers(step({ verdict: { ok: false } as NodeStep['verdict'] })), 'a failed start is another failure')
  t.notOk(refusedByPeers(step({ gate: { ...step().gate, internode: { ok: true, message: 'up', ms: 1 } } as NodeStep['gate'] })), 'peers accepted it')
  const { gate: _gate, ...noGate } = step()
  t.notOk(refusedByPeers(noGate as NodeStep), 'no gate')
})

t.test('the message: what was seen and what to do', async (t) => {
  const text = identityChangeMessage('node1', step(), { before: oldKey.identity, after: newKey.identity })
  t.equal(shortIdentity(oldKey.identity), `${oldKey.identity.slice(0, 11)}…`)
  t.equal(text, 'node1 restarted cleanly but its peers do not accept it: node2 shows node1 (10.77.0.11:7373) down; and its root API key changed ' +
    `(identity ${shortIdentity(oldKey.identity)} → ${shortIdentity(newKey.identity)}): removing the local HSM changes this cluster's identity, ` +
    'so a rolling phase B cannot work; node1 was rolled back and every node still has its local HSM. Keep the local HSM (keepLocalHsm, ' +
    '--keep-local-hsm) or remove it from every node at once: an all-at-once phase B, with a write outage while every node restarts together ' +
    '(keyroll hsm migrate … --phase-b all-at-once --allow-write-outage; API phaseB: "all-at-once", allowWriteOutage: true)')
})
