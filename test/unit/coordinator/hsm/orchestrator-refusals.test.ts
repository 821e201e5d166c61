// What stops a migration before any node is touched, and what it refuses outright: a wrong admin
// key, preflight failures (a warning when another server covers), another HSM block, an unhealthy
// node, a self-sealing server list, a busy cluster; and the dry run, which stores nothing.
import t from 'tap'
import { EXTERNAL, ended, harness, sealEverywhere } from './harness.js'

const OTHER_BLOCK_DIFF = [
  '--- /etc/minkms/config.yaml',
  '+++ /etc/minkms/config.yaml',
  '@@ -3,6 +2,0 @@',
  '-hsm:',
  '-  aws:',
  '-    kms:',
  '-      region: eu-west-1',
  '-      secret: ***a1b2c3',
  ''
].join('\n')

t.test('a wrong admin key stops at provisioning; no node is touched', async (t) => {
  const h = harness(t)
  h.kms.root = false
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.equal(m.phase, 'provision')
  t.match(m.message, /provision failed: CRD_HSM_ADMIN_KEY_REFUSED: .*nothing was created/)
  t.same(h.kms.writes(), [])
  t.notOk(h.agents.calls.some((c) => c.op === 'apply' || c.op === 'stage' || c.op === 'preflightExternalKms'), 'no node asked anything but its health')
})

t.test('one server down from one node: a warning, and the migration goes on', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  h.agents.script(h.nodes[1]!, 'preflightExternalKms', { preflight: { 'kms1:7373': 'connect ECONNREFUSED' } })
  const { migration } = await h.hsm.start(h.request({ keepLocalHsm: true }))
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.same(m.warnings, ['node node2 cannot use kms1:7373 (tls: connect ECONNREFUSED); it will use kms0:7373'])
  t.equal(m.preflight?.length, 3, 'every node\'s answer kept')
})

t.test('a server down from every node while the other passes: a warning naming it', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  for (const n of h.nodes) h.agents.script(n, 'preflightExternalKms', { preflight: { 'kms1:7373': 'connect ECONNREFUSED' } })
  const { migration } = await h.hsm.start(h.request({ keepLocalHsm: true }))
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.match(m.warnings[0], /^external server kms1:7373 failed from every node \(node1: tls: connect ECONNREFUSED; node2: .*\); every node reaches another server/)
})

t.test('a node that reaches no server: refused, naming node and servers; no node touched', async (t) => {
  const h = harness(t)
  h.agents.script(h.nodes[2]!, 'preflightExternalKms', { preflight: { 'kms0:7373': 'timeout', 'kms1:7373': 'timeout' } })
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.equal(m.phase, 'preflight')
  t.match(m.message, /refused before any node was touched: node node3 cannot use any external server: kms0:7373 \(tls: timeout\), kms1:7373 \(tls: timeout\)/)
  t.notOk(h.agents.calls.some((c) => c.op === 'apply' || c.op === 'stage' || c.op === 'commitStaged'))
  t.equal(m.rollouts.A, undefined)
})

t.test('another HSM block: refused naming it; with replaceHsm phase B removes it', async (t) => {
  const h = harness(t)
  h.agents.script(h.nodes[1]!, 'plan', { planFiles: [{ name: 'config', path: '/etc/minkms/config.yaml', changed: true, diff: OTHER_BLOCK_DIFF }] })
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /node node2's config already configures another HSM \(hsm\.aws\.kms\); migrate with replaceHsm/)

  // Several nodes with the same blocks: one sentence naming them all.
  const h3 = harness(t)
  for (const n of [h3.nodes[0]!, h3.nodes[2]!]) h3.agents.script(n, 'plan', { planFiles: [{ name: 'config', path: '/etc/minkms/config.yaml', changed: true, diff: OTHER_BLOCK_DIFF }] })
  const third = await h3.hsm.start(h3.request())
  const m3 = await h3.until(third.migration?.id ?? '', ended)
  t.match(m3.message, /the configs of nodes node1, node3 already configure another HSM \(hsm\.aws\.kms\); migrate with replaceHsm/)
  t.notMatch(m3.message, /node2/)

  const h2 = harness(t)
  sealEverywhere(h2)
  h2.agents.script(h2.nodes[1]!, 'plan', { planFiles: [{ name: 'config', path: '/etc/minkms/config.yaml', changed: true, diff: OTHER_BLOCK_DIFF }] })
  const second = await h2.hsm.start(h2.request({ replaceHsm: true }))
  const m2 = await h2.until(second.migration?.id ?? '', ended)
  t.equal(m2.state, 'succeeded', m2.message ?? '')
  const b = await h2.engine.get(m2.rollouts.B ?? '')
  t.same(b?.change.files.config?.delete, ['hsm.aws.kms'], 'phase B deletes the replaced block')
  t.same(b?.change.files.env?.unset, ['MINIO_KMS_HSM_KEY'])
})

t.test('an unhealthy node: refused before any node is touched', async (t) => {
  const h = harness(t)
  h.probe.setUp(h.nodes[0]!, false)
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /the cluster is not healthy: node1: minkms is not ready/)
  t.notOk(h.agents.calls.some((c) => c.op === 'apply' || c.op === 'stage' || c.op === 'commitStaged'))
})

t.test('refused at once: a self-sealing server, a busy cluster, removeLocalSealedCopy with keepLocalHsm', async (t) => {
  const h = harness(t)
  await t.rejects(h.hsm.start(h.request({ external: ['kms0:7373', '10.0.0.2'] })), { code: 'CRD_HSM_SELF_SEAL', message: /10\.0\.0\.2 is node2/ })
  await t.rejects(h.hsm.start(h.request({ keepLocalHsm: true, removeLocalSealedCopy: true })), { code: 'CRD_BAD_INPUT' })
  await t.rejects(h.hsm.start(h.request({ cluster: 'nope' })), { code: 'CRD_NOT_FOUND' })
  t.same(await h.store.listMigrations(), [], 'nothing stored')

  sealEverywhere(h)
  const { migration } = await h.hsm.start(h.request())
  await t.rejects(h.hsm.start(h.request()), { code: 'CRD_ROLLOUT_CONFLICT', message: /active HSM migration/ })
  const { guardRollouts } = await import('../../../../coordinator/hsm/rollout-guard.js')
  const guarded = guardRollouts(h.engine, h.store)
  const change = { revision: 99, files: { env: { set: { X: '1' } } } }
  const plan = await guarded.plan('c1', change, 'bob')
  await t.rejects(guarded.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'bob' }), { code: 'CRD_ROLLOUT_CONFLICT', message: /active HSM migration/ })
  await h.until(migration?.id ?? '', ended)
})

t.test('a rollout active on the cluster: the migration is refused', async (t) => {
  const h = harness(t)
  const change = { revision: 5, files: { env: { set: { X: '1' } } } }
  const plan = await h.engine.plan('c1', change, 'bob')
  const r = await h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'bob' })
  await t.rejects(h.hsm.start(h.request()), { code: 'CRD_ROLLOUT_CONFLICT', message: new RegExp(`active rollout ${r.id}`) })
  await h.clock.advanceUntil(() => false, { stepMs: 1000, maxMs: 60_000 }).catch(() => {})
})

t.test('a dry run checks everything and stores, creates and applies nothing', async (t) => {
  const h = harness(t)
  h.agents.script(h.nodes[0]!, 'preflightExternalKms', { preflight: { 'kms1:7373': 'connect ECONNREFUSED' } })
  const answer = await h.hsm.start(h.request({ dryRun: true }))
  const d = answer.dryRun
  t.equal(answer.migration, undefined)
  t.equal(d?.ok, true, (d?.problems ?? []).join('; '))
  t.same(d?.provision, { enclave: 'create', identity: 'create', key: 'create' })
  t.equal(d?.preflight.length, 3)
  t.equal(d?.preflight[1]?.servers[0]?.checks.auth.status, 'skipped', 'the identity is not checked before it exists')
  t.equal(d?.warnings.length, 1)
  t.ok(d?.plans.A !== undefined && d.plans.B !== undefined, 'both phases planned')
  t.same(h.kms.writes(), [])
  t.same(await h.store.listMigrations(), [])
  t.same(await h.rollouts.listRollouts(), [])
  t.notOk(h.agents.calls.some((c) => c.op === 'apply' || c.op === 'stage' || c.op === 'commitStaged'))
  t.notOk(JSON.stringify(answer).includes(h.adminKey))
})

t.test('a dry run with a wrong admin key names the problem', async (t) => {
  const h = harness(t)
  h.kms.root = false
  const d = (await h.hsm.start(h.request({ dryRun: true, external: EXTERNAL }))).dryRun
  t.equal(d?.ok, false)
  t.match(d?.problems[0], /^provisioning: CRD_HSM_ADMIN_KEY_REFUSED/)
})
