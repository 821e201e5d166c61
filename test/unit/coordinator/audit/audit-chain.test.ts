// The audit hash chain catches an edited, removed, reordered or inserted entry.
import t from 'tap'
import { auditHash, canonicalJson, chainAuditEntry, GENESIS_HASH, verifyAuditChain } from '../../../../coordinator/audit/audit-chain.js'
import type { AuditEntry } from '../../../../coordinator/store/rollout-store.js'

function chain (n: number): AuditEntry[] {
  const out: AuditEntry[] = []
  for (let i = 0; i < n; i++) {
    out.push(chainAuditEntry(out.at(-1), { at: 1000 + i, actor: i % 2 === 0 ? 'alice' : 'system', action: 'rollout.step', target: `r${i}`, ...(i === 1 ? { planHash: 'c'.repeat(64) } : {}), detail: { node: `node${i}`, verdict: { ok: true } } }))
  }
  return out
}

t.test('canonical JSON sorts keys at every depth and drops undefined members', async t => {
  t.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } }), '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}')
  t.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }))
  t.equal(canonicalJson('x"y'), '"x\\"y"')
  t.equal(canonicalJson([undefined]), '[null]')
})

t.test('a chain verifies; its head is the last hash', async t => {
  const c = chain(5)
  t.same(c.map(e => e.seq), [1, 2, 3, 4, 5])
  t.equal(c[0]?.prevHash, GENESIS_HASH)
  for (let i = 1; i < c.length; i++) t.equal(c[i]?.prevHash, c[i - 1]?.hash)
  t.same(verifyAuditChain(c), { ok: true, entries: 5, head: c[4]?.hash })
  t.same(verifyAuditChain([]), { ok: true, entries: 0, head: GENESIS_HASH }, 'an empty log verifies')
})

t.test('the hash covers every field', async t => {
  const [e] = chain(2).slice(1)
  if (e === undefined) throw new Error('no entry')
  const changes: Array<Partial<AuditEntry>> = [
    { seq: 9 }, { at: 1 }, { actor: 'mallory' }, { action: 'rollout.abort' }, { target: 'r9' }, { planHash: 'd'.repeat(64) },
    { detail: { node: 'node1', verdict: { ok: false } } }, { prevHash: 'e'.repeat(64) }
  ]
  for (const c of changes) t.not(auditHash({ ...e, ...c }), e.hash, `changing ${Object.keys(c)[0] ?? ''} changes the hash`)
  const { planHash: _, ...noPlan } = e
  t.not(auditHash(noPlan), e.hash, 'removing planHash changes the hash')
})

t.test('an edited entry', async t => {
  const c = chain(5)
  c[2] = { ...c[2] as AuditEntry, detail: { node: 'node2', verdict: { ok: false } } }
  t.match(verifyAuditChain(c), { ok: false, entries: 5, firstBad: { seq: 3, reason: /edited/ } })
})

t.test('an edited entry whose hash was recomputed breaks at the next', async t => {
  const c = chain(5)
  const edited = { ...c[2] as AuditEntry, actor: 'mallory' }
  c[2] = { ...edited, hash: auditHash(edited) }
  t.match(verifyAuditChain(c), { ok: false, firstBad: { seq: 4, reason: /prevHash/ } })
})

t.test('a removed entry', async t => {
  const c = chain(5)
  c.splice(2, 1)
  t.match(verifyAuditChain(c), { ok: false, entries: 4, firstBad: { seq: 4, reason: /follows seq 2: an entry is missing/ } })
  const first = chain(3).slice(1)
  t.match(verifyAuditChain(first), { ok: false, firstBad: { seq: 2, reason: /missing/ } }, 'the first entry removed')
  const two = chain(6)
  two.splice(1, 2)
  t.match(verifyAuditChain(two), { ok: false, firstBad: { seq: 4, reason: /2 entries are missing/ } })
})

t.test('a removed entry with the rest renumbered', async t => {
  const c = chain(5)
  c.splice(2, 1)
  const renumbered = c.map((e, i) => ({ ...e, seq: i + 1 }))
  const v = verifyAuditChain(renumbered)
  t.equal(v.ok, false)
  t.equal(v.firstBad?.seq, 3, 'caught at the renumbered entry')
})

t.test('reordered entries', async t => {
  const c = chain(5)
  const [x, y] = [c[1] as AuditEntry, c[2] as AuditEntry]
  c[1] = y
  c[2] = x
  t.match(verifyAuditChain(c), { ok: false, firstBad: { seq: 3, reason: /follows seq 1/ } })
})

t.test('an inserted entry', async t => {
  const c = chain(4)
  const forged = chainAuditEntry(c[1], { at: 1001, actor: 'mallory', action: 'token.create', target: 'backdoor', detail: {} })
  c.splice(2, 0, forged)
  t.match(verifyAuditChain(c), { ok: false, firstBad: { seq: 3, reason: /reordered or inserted/ } }, 'as a duplicate seq')
  const renumbered = c.map((e, i) => ({ ...e, seq: i + 1 }))
  t.match(verifyAuditChain(renumbered), { ok: false, firstBad: { seq: 4 } }, 'renumbered: the entry after it no longer chains')
  t.match(verifyAuditChain([...chain(3), forged]), { ok: false, firstBad: { seq: 3, reason: /reordered or inserted/ } }, 'appended with a reused seq')
})

t.test('chainAuditEntry stores detail as JSON would', async t => {
  const e = chainAuditEntry(undefined, { at: 1, actor: 'a', action: 'b', target: 'c', detail: { when: new Date(0), gone: undefined, n: Number.NaN } })
  t.same(e.detail, { when: '1970-01-01T00:00:00.000Z', n: null })
  t.ok(verifyAuditChain([JSON.parse(JSON.stringify(e)) as AuditEntry]).ok, 'a JSON round trip keeps it valid')
})
