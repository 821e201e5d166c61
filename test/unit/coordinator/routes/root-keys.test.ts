// A cluster's adopted root API key through the API: the cluster view shows its identity and times
// only; POST /v1/clusters/:name/root-api-key hands it over once to an operator (no-store, audited
// without the key), then answers 410 saying when; a viewer, an unknown cluster and a cluster that
// adopted nothing are refused; the key is in no other answer, no audit entry and no log line.
import t from 'tap'
import { RootKeyHandOver } from '../../../../coordinator/gate/root-key-handover.js'
import { MemoryRootKeyStore } from '../../../../coordinator/store/root-key-store.js'
import type { RolloutStore } from '../../../../coordinator/store/rollout-store.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'
import { buildTestCoordinator, type TestCoordinator } from '../../../helpers/coordinator-app.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const KEY = generateApiKey('k1')
const URL = '/v1/clusters/c1/root-api-key'

async function setup (t: Parameters<typeof buildTestCoordinator>[0]): Promise<{ tc: TestCoordinator, keys: MemoryRootKeyStore, clock: FakeClock }> {
  const keys = new MemoryRootKeyStore()
  const clock = new FakeClock()
  // The app's own store is made with the app: the hand-over audits into it once it exists.
  const late: { audit?: Pick<RolloutStore, 'appendAudit'> } = {}
  const rootKeys = new RootKeyHandOver({ store: keys, audit: { appendAudit: async (e) => await (late.audit as Pick<RolloutStore, 'appendAudit'>).appendAudit(e) }, clock, clusters: ['c1', 'c2'] })
  const tc = await buildTestCoordinator(t, { rootKeys })
  late.audit = tc.store
  return { tc, keys, clock }
}

t.test('views show the identity only; the key is handed over once, audited without it', async (t) => {
  const { tc, keys, clock } = await setup(t)
  const before = (await tc.app.inject({ url: '/v1/clusters', headers: tc.viewer })).json()
  t.notOk(before.some((c: { rootKey?: unknown }) => c.rootKey !== undefined), 'no rootKey while nothing was adopted')
  await keys.adopt('c1', KEY.identity, new Secret(KEY.key), 1000)
  const views = (await tc.app.inject({ url: '/v1/clusters', headers: tc.viewer })).json()
  t.same(views.find((c: { name: string }) => c.name === 'c1').rootKey, { identity: KEY.identity, adoptedAt: 1000 })

  t.equal((await tc.app.inject({ method: 'POST', url: URL, headers: tc.viewer })).statusCode, 403, 'a viewer may not')
  const first = await tc.app.inject({ method: 'POST', url: URL, headers: tc.operator })
  t.equal(first.statusCode, 200)
  t.equal(first.headers['cache-control'], 'no-store')
  t.same(first.json(), { identity: KEY.identity, apiKey: { $secret: KEY.key } })
  const again = await tc.app.inject({ method: 'POST', url: URL, headers: tc.operator })
  t.equal(again.statusCode, 410)
  t.match(again.json(), { code: 'CRD_ROOT_KEY_HANDED_OVER', message: new RegExp(`identity ${KEY.identity}\\) was handed over at ${new Date(clock.now()).toISOString()}.*look in the file`) })
  const after = (await tc.app.inject({ url: '/v1/clusters', headers: tc.viewer })).json()
  t.same(after.find((c: { name: string }) => c.name === 'c1').rootKey, { identity: KEY.identity, adoptedAt: 1000, handedOverAt: clock.now() })

  const audit = await tc.store.audit()
  t.match(audit.filter((e) => e.action === 'cluster.root-key.hand-over'), [{ actor: 'bob', target: 'c1', detail: { identity: KEY.identity } }])
  const elsewhere = JSON.stringify({ views, after, audit, again: again.body }) + tc.lines.join('\n')
  t.notOk(elsewhere.includes(KEY.key.slice(3)), 'the key is in no other answer, audit entry or log line')
})

t.test('an unknown cluster, one that adopted nothing, a body or query: refused, nothing handed over', async (t) => {
  const { tc, keys } = await setup(t)
  t.match((await tc.app.inject({ method: 'POST', url: '/v1/clusters/nope/root-api-key', headers: tc.operator })).json(), { statusCode: 404, code: 'CRD_NOT_FOUND' })
  t.match((await tc.app.inject({ method: 'POST', url: URL, headers: tc.operator })).json(), { statusCode: 404, code: 'CRD_ROOT_KEY_NONE', message: /configured minkms.adminKeyFile/ })
  await keys.adopt('c1', KEY.identity, new Secret(KEY.key), 1000)
  t.equal((await tc.app.inject({ method: 'POST', url: `${URL}?force=1`, headers: tc.operator })).statusCode, 400)
  t.equal((await tc.app.inject({ method: 'POST', url: '/v1/clusters/..%2Fc1/root-api-key', headers: tc.operator })).statusCode, 400)
  t.equal((await keys.get('c1'))?.handedOverAt, undefined, 'still not handed over')
  t.notOk((await tc.store.audit()).some((e) => e.action === 'cluster.root-key.hand-over'), 'a refusal is not a hand-over')
})

t.test('two requests at once: one gets the key, the other 410', async (t) => {
  const { tc, keys } = await setup(t)
  await keys.adopt('c1', KEY.identity, new Secret(KEY.key), 1000)
  const [a, b] = await Promise.all([1, 2].map(async () => await tc.app.inject({ method: 'POST', url: URL, headers: tc.operator })))
  t.same([a?.statusCode, b?.statusCode].sort(), [200, 410])
})

t.test('without the port the route does not exist', async (t) => {
  const tc = await buildTestCoordinator(t)
  t.equal((await tc.app.inject({ method: 'POST', url: URL, headers: tc.operator })).statusCode, 404)
})
