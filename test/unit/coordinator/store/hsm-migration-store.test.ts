// The HSM migration store, the same tests against the in-memory and the SQLite implementation:
// one active migration per cluster, gapless events, views and work read back as written, sealed
// secrets only sealed (the SQLite file's bytes hold no secret), and the orchestrator resuming
// over the SQLite store after a restart.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { HsmMigration } from '../../../../shared/schemas/hsm-migration.js'
import { Secret } from '../../../../shared/secrets/secret.js'
import { boxSealer } from '../../../../coordinator/engine/sealer.js'
import { openSecrets, sealSecrets } from '../../../../coordinator/hsm/migration-secrets.js'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'
import type { HsmMigrationStore } from '../../../../coordinator/store/hsm-migration-store.js'
import { MemoryHsmMigrationStore } from '../../../../coordinator/store/memory-hsm-migration-store.js'
import { SqliteHsmMigrationStore } from '../../../../coordinator/store/sqlite-hsm-migration-store.js'
import { SqliteRolloutStore } from '../../../../coordinator/store/sqlite-rollout-store.js'
import { ended, harness, sealEverywhere } from '../hsm/harness.js'

const SECRET = 'k1:ZXhhbXBsZS1zZWNyZXQtbm90LXJlYWwtMTIzNDU2Nzg5MA'

function migration (id: string, patch: Partial<HsmMigration> = {}): HsmMigration {
  return {
    id,
    cluster: 'c1',
    external: ['kms0:7373'],
    enclave: 'e',
    key: 'k',
    keepLocalHsm: false,
    replaceHsm: false,
    removeLocalSealedCopy: false,
    state: 'running',
    phase: 'provision',
    createdBy: 'alice',
    createdAt: 1000,
    updatedAt: 1000,
    warnings: [],
    rollouts: {},
    nodes: [{ name: 'n1', phases: {} }],
    ...patch
  }
}

const kinds: Array<[string, (t: Test) => HsmMigrationStore]> = [
  ['memory', () => new MemoryHsmMigrationStore()],
  ['sqlite', (t) => SqliteHsmMigrationStore.open(join(t.testdir({}), 'keyroll.db'))]
]

for (const [kind, make] of kinds) {
  t.test(`${kind}: one active migration per cluster; views, work and events read back`, async (t) => {
    const s = make(t)
    t.teardown(async () => { await s.close() })
    await s.createMigration({ migration: migration('m1'), work: { revisionA: 3 }, sealedSecrets: 'sealed-1' })
    await t.rejects(s.createMigration({ migration: migration('m2'), work: {}, sealedSecrets: 'x' }), { code: 'CRD_ROLLOUT_CONFLICT', message: /m1/ })
    await s.createMigration({ migration: migration('m3', { cluster: 'c2' }), work: {}, sealedSecrets: 'x' })
    await s.saveMigration(migration('m1', { state: 'failed', phase: 'A', createdAt: 1000 }), { revisionA: 3, otherHsmBlocks: ['hsm.aws.kms'] })
    await s.createMigration({ migration: migration('m2', { createdAt: 2000 }), work: {}, sealedSecrets: 'x' })
    const got = await s.getMigration('m1')
    t.same(got?.work, { revisionA: 3, otherHsmBlocks: ['hsm.aws.kms'] })
    t.equal(got?.sealedSecrets, 'sealed-1', 'secrets unchanged when not given')
    await s.saveMigration(got!.migration, got!.work, 'sealed-2')
    t.equal((await s.getMigration('m1'))?.sealedSecrets, 'sealed-2')
    t.same((await s.listMigrations({ cluster: 'c1' })).map((m) => m.id), ['m2', 'm1'], 'newest first')
    t.same((await s.activeMigrations()).map((m) => m.migration.id).sort(), ['m2', 'm3'])
    await t.rejects(s.saveMigration(migration('nope'), {}), { code: 'CRD_NOT_FOUND' })
    const e0 = await s.appendEvent('m1', { at: 1, type: 'migration', message: 'a', phase: 'provision' })
    const e1 = await s.appendEvent('m1', { at: 2, type: 'journal', message: 'b', phase: 'A', node: 'n1', data: { cursor: 'c' } })
    t.same([e0.index, e1.index], [0, 1])
    t.same((await s.events('m1', { from: 1 })).map((e) => e.message), ['b'])
    await t.rejects(s.appendEvent('nope', { at: 1, type: 'info', message: 'x' }), { code: 'CRD_NOT_FOUND' })
  })
}

t.test('secrets are sealed: the SQLite file holds neither key after a whole migration', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'keyroll.db')
  const rollouts = SqliteRolloutStore.open(path)
  const store = SqliteHsmMigrationStore.open(path)
  t.teardown(async () => { await store.close(); await rollouts.close() })
  const h = harness(t, { store, rollouts })
  sealEverywhere(h)
  const answer = await h.hsm.start(h.request({ revealApiKey: true }))
  const id = answer.migration?.id ?? ''
  await h.until(id, (m) => m.nodes[0]?.phases.A?.state === 'done')
  await h.restart()
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  const bytes = readdirSync(dir).filter((f) => f.startsWith('keyroll.db')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('')
  t.ok(bytes.length > 0)
  t.notOk(bytes.includes(h.adminKey), 'no admin key in the file or its WAL')
  t.notOk(bytes.includes(answer.apiKey ?? 'x'), 'no API key in the file or its WAL')
  t.ok(bytes.includes(id), 'the migration is there')
})

t.test('sealed secrets open back; the admin key may be left out', async (t) => {
  const sealer = boxSealer(coordinatorBoxWithKey(randomBytes(32)))
  const sealed = sealSecrets(sealer, { adminKey: new Secret(SECRET), apiKey: new Secret('k1:other') })
  t.notOk(sealed.includes(SECRET))
  const open = openSecrets(sealer, sealed)
  t.equal(open.adminKey?.reveal(), SECRET)
  t.equal(openSecrets(sealer, sealSecrets(sealer, { apiKey: open.apiKey })).adminKey, undefined)
})
