// The migration end to end over fakes: provision → preflight → phase A → phase B (canary,
// promoted) → cleanup → done; what each node went through; secrets nowhere in clear.
import t from 'tap'
import { ended, harness, sealEverywhere } from './harness.js'

t.test('a migration runs every phase and each node restarts once per phase', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const answer = await h.hsm.start(h.request({ removeLocalSealedCopy: true, revealApiKey: true }))
  const id = answer.migration?.id ?? ''
  t.match(answer.apiKey, /^k[12]:/, 'the API key answered once, on request')
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.equal(m.phase, 'done')
  t.same(m.provision && [m.provision.enclave, m.provision.identity, m.provision.key], ['created', 'created', 'created'])
  for (const n of m.nodes) {
    t.equal(n.phases.A?.state, 'done', `${n.name} phase A done`)
    t.equal(n.phases.A?.restarts, 1, `${n.name} restarted once in A`)
    t.equal(n.phases.A?.sealed, true)
    t.equal(n.phases.B?.state, 'done', `${n.name} phase B done`)
    t.equal(n.phases.B?.restarts, 1, `${n.name} restarted once in B`)
    t.equal(h.agents.node(h.nodes.find((x) => x.name === n.name) ?? h.nodes[0]!).restarts, 2, `${n.name}: two restarts in all`)
  }
  const ra = await h.engine.get(m.rollouts.A ?? '')
  const rb = await h.engine.get(m.rollouts.B ?? '')
  t.equal(ra?.state, 'succeeded')
  t.equal(rb?.strategy.canary, true, 'phase B ran with a canary')
  t.match(JSON.stringify(ra?.change), /hsm\.minio\.minkms/)
  t.same(rb?.change.files.env?.unset, ['MINIO_KMS_HSM_KEY'])
  for (const n of h.nodes) t.notOk((await h.probe.hsmStatus(n)).sealed.includes('hsm:minio:soft'), `${n.name}: the local sealed copy is gone`)

  const events = await h.hsm.events(id)
  t.same(events.map((e) => e.index), events.map((_, i) => i), 'indexes from 0 without gaps')
  t.ok(events.some((e) => e.phase === 'A' && e.type === 'verdict'), 'phase A verdicts forwarded')
  t.ok(events.some((e) => e.phase === 'B' && e.type === 'journal'), 'phase B journal lines forwarded')
  const audit = (await h.rollouts.audit()).map((a) => a.action)
  t.ok(audit.includes('hsm-migration.start') && audit.includes('hsm-migration.finish'), 'start and finish audited')

  const everything = JSON.stringify({ m, events, audit: await h.rollouts.audit(), stored: await h.store.getMigration(id), rollouts: await h.rollouts.listRollouts() })
  t.notOk(everything.includes(h.adminKey), 'the admin key is nowhere in clear')
  t.notOk(everything.includes(answer.apiKey ?? 'x'), 'the API key is nowhere in clear')
})

t.test('a rollout change notified while the runner reads is not lost: it looks again at once, not after pollMs', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  // The first time the runner reads phase A's rollout as ended, it is handed the view from just
  // before (running) and the rollout's last event is notified during that read.
  const subs: Array<() => void> = []
  const subscribe = h.engine.subscribe.bind(h.engine)
  h.engine.subscribe = (id, fn) => {
    const wrapped = (): void => { fn({ index: 0, at: h.clock.now(), type: 'rollout', message: 'rollout succeeded' }) }
    subs.push(wrapped)
    const off = subscribe(id, fn)
    return () => { off(); subs.splice(subs.indexOf(wrapped), 1) }
  }
  const get = h.engine.get.bind(h.engine)
  let staleAt: number | undefined
  h.engine.get = async (id) => {
    const r = await get(id)
    if (staleAt !== undefined || r?.state !== 'succeeded') return r
    staleAt = h.clock.now()
    for (const fn of [...subs]) fn()
    return { ...r, state: 'running' }
  }
  const { migration } = await h.hsm.start(h.request({ keepLocalHsm: true }))
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.not(staleAt, undefined, 'the stale read happened')
  t.equal(m.finishedAt, staleAt, 'no pollMs slept after it: the migration ended at the same (fake) time')
})
