import t, { type Test } from 'tap'
import { InlinePlanner } from '../../../../agent/apply/planner.js'
import { WorkerPlanner } from '../../../../agent/apply/worker-planner.js'
import { planView, type ChangePlan, type FilePlan } from '../../../../shared/change/plan.js'
import { validateChange } from '../../../../shared/change/validate-change.js'
import { YamlParseError, YamlPathBlockedError } from '../../../../shared/edit/errors.js'
import { API_KEY, CONFIG, ENV, HSM_KEY } from '../../../helpers/applier-fixture.js'

const OPTS = { fingerprintKey: new Uint8Array([1, 2, 3]), labels: { config: '/etc/minkms/config.yaml', env: '/etc/default/minkms' } }
const CHANGE = validateChange({
  revision: 3,
  files: {
    config: {
      set: { 'hsm.minio.minkms': { server: ['kms0:7373', 'kms1:7373'], enclave: 'e', key: 'k', auth: { key: { $secret: API_KEY } } }, 'log.level': 'debug', 'cache.expiry': 5, 'api.admin': null, 'tls.on': true },
      delete: ['tls.ca'],
      mode: '0600'
    },
    env: { set: { MINIO_KMS_HSM_KEY: { $secret: HSM_KEY.replace('PuK', 'QuK') }, MINIO_KMS_VOLUME: '/mnt/other' }, unset: ['MINIO_KMS_OPTS'] }
  },
  restart: 'always'
})

function planner (t: Test, opts: ConstructorParameters<typeof WorkerPlanner>[0] = {}): WorkerPlanner {
  const p = new WorkerPlanner(opts)
  t.teardown(async () => { await p.close() })
  return p
}

/** Everything a plan holds: the masked view, the text to write, whether it holds a secret. */
function whole (p: ChangePlan): unknown {
  const file = (f: FilePlan | undefined): unknown => f === undefined ? undefined : { newText: f.newText, holdsSecret: f.holdsSecret }
  return { view: planView(p), config: file(p.files.config), env: file(p.files.env) }
}

t.test('a plan from the worker is the plan of this thread, byte for byte, secrets included', async t => {
  const worker = planner(t)
  const current = { config: CONFIG, env: ENV }
  const here = await new InlinePlanner().plan(current, CHANGE, OPTS)
  const there = await worker.plan(current, CHANGE, OPTS)
  t.same(whole(there), whole(here))
  t.equal(JSON.stringify(planView(there)), JSON.stringify(planView(here)))
  t.ok(there.files.config?.newText.includes(API_KEY), 'the content to write holds the API key')
  t.equal(there.files.config?.holdsSecret, true)
  t.equal(there.files.env?.holdsSecret, true)
  t.notOk(JSON.stringify(there).includes(API_KEY), 'the plan still serialises masked')
  t.equal(there.changed, true)
  t.equal(there.restart, true)
})

t.test('a missing file and a plan with problems cross unchanged', async t => {
  const worker = planner(t)
  const bad = validateChange({ revision: 1, files: { config: { set: { 'hsm.minio.minkms.server': [] } } } })
  for (const current of [{}, { config: CONFIG }, { config: CONFIG, env: ENV }]) {
    const here = await new InlinePlanner().plan(current, bad, OPTS)
    const there = await worker.plan(current, bad, OPTS)
    t.same(whole(there), whole(here))
    t.equal(there.files.config?.existed, current.config !== undefined)
  }
})

t.test('errors come back as the class, code, status, message and fields planning threw', async t => {
  const worker = planner(t)
  const cases: Array<{ current: { config: string }, change: typeof CHANGE, cls: new (...a: never[]) => Error }> = [
    { current: { config: 'version: v1\ntls: [unclosed\n' }, change: CHANGE, cls: YamlParseError },
    { current: { config: 'version: v1\nhsm: 7\n' }, change: CHANGE, cls: YamlPathBlockedError }
  ]
  for (const c of cases) {
    const here = await new InlinePlanner().plan(c.current, c.change, OPTS).then(() => undefined, (e: unknown) => e as Error)
    const there = await worker.plan(c.current, c.change, OPTS).then(() => undefined, (e: unknown) => e as Error)
    t.ok(here instanceof c.cls, `this thread throws ${c.cls.name}`)
    t.ok(there instanceof c.cls, `the worker's error is a ${c.cls.name}`)
    t.equal(there?.message, here?.message)
    t.same({ ...there }, { ...here }, 'same own fields (code, statusCode, line, path, …)')
  }
})

t.test('one worker serves plans in order, is kept warm, and starts again after idling', async t => {
  const worker = planner(t, { idleMs: 50 })
  const current = { config: CONFIG, env: ENV }
  const plans = await Promise.all([1, 2, 3].map(async r => await worker.plan(current, validateChange({ revision: r, files: { config: { set: { 'log.level': `l${r}` } } } }), OPTS)))
  t.same(plans.map(p => p.revision), [1, 2, 3])
  t.equal(worker.started, 1, 'one worker for all three')
  const deadline = Date.now() + 10_000
  while (worker.running && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
  t.equal(worker.running, false, 'stopped after idling')
  await worker.plan(current, CHANGE, OPTS)
  t.equal(worker.started, 2, 'the next plan started it again')
})

t.test('close rejects a plan in flight; a later plan starts a new worker', async t => {
  const worker = planner(t)
  const big = validateChange({ revision: 1, files: { config: { set: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`s${i % 10}.k${i}`, `v${i}`])) } } })
  const inFlight = t.rejects(worker.plan({ config: CONFIG }, big, OPTS), /plan worker was stopped/)
  await worker.close()
  await inFlight
  const p = await worker.plan({ config: CONFIG }, CHANGE, OPTS)
  t.equal(p.revision, 3)
  t.equal(worker.started, 2)
})
