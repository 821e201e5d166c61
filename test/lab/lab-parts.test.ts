// The lab's pure parts: names, nspawn arguments, node files, the CA, waiting. No root, no nodes.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { parseEnv } from 'node:util'
import { parseDocument } from 'yaml'
import { LAB_AGENT_STABLE_FOR, agentConfig, labStableForProblem } from './lab-agents.js'
import { LabCa } from './lab-ca.js'
import { labLayout, planNodes } from './lab-paths.js'
import { MINKMS_UNIT, minkmsConfig, minkmsEnv, minkmsWrapper, newHsmKey } from './node-files.js'
import { nspawnArgs } from './nspawn.js'
import { pickSystemAccount } from './thin-root.js'
import { WaitTimeoutError, waitFor } from './wait.js'

t.test('names derive from the lab id and fit in 15 characters', async (t) => {
  const layout = labLayout(254)
  t.match(layout, { base: '/var/tmp/keyroll-lab/254', bridge: 'krl254br', gateway: '10.77.254.1', netnsPrefix: 'krl254-' })
  const plans = planNodes(layout, { nodes: 40, external: 40 })
  t.same(plans.slice(0, 2).map((p) => [p.name, p.address, p.veth, p.netns]), [
    ['node1', '10.77.254.11', 'krl254v1', 'krl254-node1'],
    ['node2', '10.77.254.12', 'krl254v2', 'krl254-node2']
  ])
  t.match(plans.at(-1), { name: 'ext40', role: 'external', address: '10.77.254.90', veth: 'krl254v80' })
  t.ok([layout.bridge, ...plans.map((p) => p.veth)].every((n) => n.length <= 15), 'interface names ≤ 15 chars')
  t.equal(new Set(plans.map((p) => p.address)).size, plans.length, 'addresses are unique')
  const withCoord = planNodes(layout, { nodes: 40, external: 40, coordinator: true })
  t.match(withCoord.at(-1), { name: 'coord', role: 'coordinator', address: '10.77.254.5', veth: 'krl254v81' }, 'the coordinator node comes last, at .5')
  t.equal(new Set(withCoord.map((p) => p.address)).size, withCoord.length, 'its address is unique too')
  t.throws(() => labLayout(255), RangeError)
  t.throws(() => planNodes(layout, { nodes: 0, external: 1 }), RangeError)
  t.throws(() => planNodes(layout, { nodes: 41, external: 0 }), RangeError)
})

t.test('nspawn arguments', async (t) => {
  const args = nspawnArgs({ root: '/r', machine: 'krl1-node1', hostname: 'node1', netnsPath: '/run/netns/krl1-node1', binds: [{ host: '/repo', node: '/opt/keyroll', readOnly: true }, { host: '/data' }] })
  for (const a of ['--boot', '--directory=/r', '--register=no', '--keep-unit', '--console=passive', '--link-journal=no', '--machine=krl1-node1', '--hostname=node1', '--network-namespace-path=/run/netns/krl1-node1', '--bind-ro=/usr', '--bind-ro=/repo:/opt/keyroll', '--bind=/data']) {
    t.ok(args.includes(a), a)
  }
  t.notOk(args.some((a) => a.startsWith('--volatile')), 'each node has its own root, not an overlay')
  t.throws(() => nspawnArgs({ root: '/r', machine: 'm', hostname: 'h', netnsPath: '/n', binds: [{ host: '/a:b' }] }), /must not contain ':'/)
})

t.test('the minkms account takes the highest id below 1000 free in passwd and group', async (t) => {
  t.same(pickSystemAccount('a:x:999:999::/:/bin/sh\nb:x:997:997::/:/bin/sh\n', 'g:x:998:\n'), { uid: 996, gid: 996 })
})

t.test('the unit keeps every directive of the real one, with the documented path changes', async (t) => {
  const directives = MINKMS_UNIT.split('\n').filter((l) => /^[A-Za-z]+=/.test(l))
  t.same(directives, [
    'Description=MinKMS',
    'Documentation=https://docs.min.io/enterprise/aistor-key-manager',
    'Wants=network-online.target',
    'After=network-online.target',
    'AssertFileIsExecutable=/opt/minkms/bin/minkms',
    'WorkingDirectory=/usr/local',
    'User=minkms-user',
    'Group=minkms-user',
    'ProtectProc=invisible',
    'EnvironmentFile=-/etc/default/minkms',
    'ExecStart=/opt/minkms/bin/minkms server $MINIO_KMS_VOLUME $MINIO_KMS_OPTS',
    'Restart=always',
    'LimitNOFILE=65536',
    'TasksMax=infinity',
    'TimeoutStopSec=infinity',
    'SendSIGKILL=no',
    'WantedBy=multi-user.target'
  ])
  t.notOk(MINKMS_UNIT.split('\n').some((l) => l.startsWith('StartLimit')), 'the default start limit is kept')
  t.equal(minkmsWrapper('/opt/keyroll/dist/test/lab/emulator/main.js').split('\n').at(-2), 'exec /usr/bin/node /opt/keyroll/dist/test/lab/emulator/main.js "$@"')
})

t.test('config and environment files', async (t) => {
  const [node] = planNodes(labLayout(3), { nodes: 1, external: 0 })
  if (node === undefined) throw new Error('no node')
  const doc = parseDocument(minkmsConfig(node))
  t.same(doc.errors, [], 'valid YAML')
  t.same(doc.toJS(), { version: 'v1', tls: { certs: [{ key: '/etc/minkms/certs/private.key', cert: '/etc/minkms/certs/public.crt' }], ca: '/etc/minkms/certs/CAs' } })
  for (const key of ['version', 'tls', 'certs', 'ca']) t.match(minkmsConfig(node), new RegExp(`#[^\\n]*\\n\\s*(- )?${key}:`), `a comment above ${key}`)

  const hsm = newHsmKey()
  t.match(hsm, /^hsm:aes256:[A-Za-z0-9+/]{43}=$/)
  t.equal(Buffer.from(hsm.slice('hsm:aes256:'.length), 'base64').length, 32)
  const env = minkmsEnv(node, hsm)
  t.match(env, /^# /, 'starts with a comment line')
  t.same(parseEnv(env), {
    MINIO_KMS_HSM_KEY: hsm,
    MINIO_KMS_VOLUME: '/mnt/minio-kms',
    MINIO_KMS_OPTS: '--host 10.77.3.11:7373 --config /etc/minkms/config.yaml'
  })
})

t.test("the lab agents' config: its stability window, 1s unless the lab is asked for another", async (t) => {
  const [node] = planNodes(labLayout(3), { nodes: 1, external: 0 })
  if (node === undefined) throw new Error('no node')
  const verifyOf = (yaml: string): unknown => (parseDocument(yaml).toJS() as { verify: unknown }).verify
  t.same(verifyOf(agentConfig(node, ['someone'])), { deadline: '30s', stableFor: LAB_AGENT_STABLE_FOR })
  t.same(verifyOf(agentConfig(node, ['someone'], '5s')), { deadline: '30s', stableFor: '5s' })
  t.equal(labStableForProblem('5s'), undefined)
  t.match(labStableForProblem('5 s'), /expected a duration/)
  t.match(labStableForProblem('45s'), /shorter than deadline.*30s/)
})

t.test('the lab CA issues server certificates for a node address and name', async (t) => {
  const ca = await LabCa.create('test CA')
  const leaf = await ca.issue({ commonName: 'node1', dns: ['node1'], ips: ['10.77.3.11'] })
  const caCert = new X509Certificate(ca.certPem)
  const cert = new X509Certificate(leaf.cert)
  t.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey), 'signed by the CA')
  t.equal(cert.checkIP('10.77.3.11'), '10.77.3.11')
  t.equal(cert.checkHost('node1'), 'node1')
  t.equal(caCert.ca, true)
  t.match(leaf.key, /^-----BEGIN PRIVATE KEY-----/)
  t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'ECDSA P-256')
})

t.test('waitFor returns the first truthy value and times out with the last error', async (t) => {
  let n = 0
  t.equal(await waitFor(() => ++n === 3 ? 'done' : undefined, { timeoutMs: 1000, intervalMs: 1 }), 'done')
  const err = await waitFor(() => { throw new Error('not yet') }, { timeoutMs: 30, intervalMs: 5, what: 'x' }).catch((e: unknown) => e)
  t.type(err, WaitTimeoutError)
  t.match((err as Error).message, /waiting for x: not yet/)
  const ac = new AbortController()
  ac.abort(new Error('gave up'))
  await t.rejects(waitFor(() => false, { timeoutMs: 1000, signal: ac.signal }), /gave up/)
})
