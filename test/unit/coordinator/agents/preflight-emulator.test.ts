// The external Key Manager preflight end to end on loopback: the coordinator's HTTPS AgentClient,
// the REAL agent API over mutual TLS, and real in-process emulators as the external Key Manager
// (provisioned by the coordinator's provisioning). One server answers, one is stopped: the answer
// says so per server. The CA comes from the node's minkms config (`tls.ca`): another CA there, or
// none (system store), fails the tls check as untrusted. The API key is in no answer or log line.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { HttpAgentClient } from '../../../../coordinator/agents/http-agent-client.js'
import { provisionExternalHsmAt } from '../../../../coordinator/hsm/provision.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { startRealAgent } from '../../../helpers/real-agent.js'
import { LabCa } from '../../../lab/lab-ca.js'
import { startNode, testEnv } from '../../lab/emulator/helpers/harness.js'

const ca = await LabCa.create('keyroll agents CA')
const serverCert = await ca.issue({ commonName: 'node1 agent', ips: ['127.0.0.1'], usage: ['server'] })
const coordinatorCert = await ca.issue({ commonName: 'keyroll-coordinator', usage: ['client'] })
const REQ = { enclave: 'aistor-key-manager', key: 'aistor-key-manager-hsm' }

function clientOf (t: Test): HttpAgentClient {
  const c = new HttpAgentClient({ tls: { ca: ca.certPem, cert: coordinatorCert.cert, key: coordinatorCert.key } })
  t.teardown(() => c.close())
  return c
}

t.test('from the node: one server reachable, one stopped, per-server results', async (t) => {
  const env = await testEnv(t)
  const ext = await startNode(env)
  const stopped = await startNode(env)
  const down = stopped.emu.host
  await stopped.emu.close()
  const provisioned = await provisionExternalHsmAt({ servers: [ext.emu.host], ca: env.pki.caPem, adminKey: ext.emu.rootApiKey, timeoutMs: 3000 }, REQ)
  const apiKey = secretOf(provisioned.apiKey.reveal())

  // Its own subtest: the agent's and the emulators' temporary directories are each a test's testdir.
  await t.test('the node checks both', async (t) => {
    const a = await startRealAgent(t, { tls: { cert: serverCert.cert, key: serverCert.key, clientCa: ca.certPem } })
    const node: NodeRef = { cluster: 'c1', name: 'node1', agentUrl: a.base, minkms: '127.0.0.1:7373' }
    const client = clientOf(t)
    const ask = async (): ReturnType<HttpAgentClient['preflightExternalKms']> =>
      await client.preflightExternalKms(node, { servers: [ext.emu.host, down], ...REQ, apiKey, timeoutMs: 2000 })

    await writeFile(a.files.config, `# the node's minkms config\nversion: v1\ntls:\n  ca: ${env.pki.caDir}\n`)
    const r = await ask()
    t.match(r, { node: 'node1', ok: false, reachable: 1, trust: { source: 'tls.ca', path: env.pki.caDir } })
    t.match(r.servers[0], { server: ext.emu.host, ok: true, checks: { tls: { status: 'ok' }, auth: { status: 'ok' }, roundTrip: { status: 'ok' } } })
    t.match(r.servers[1], { server: down, ok: false, checks: { tls: { status: 'failed', reason: /^unreachable: .*ECONNREFUSED/ }, auth: { status: 'skipped' }, roundTrip: { status: 'skipped' } } })
    t.ok(r.servers.every((s) => typeof s.ms === 'number'), 'timings per server')
    t.match(ext.logs.text(), new RegExp(`audit KEY:ENCRYPT enclave=${REQ.enclave} identity=${provisioned.identityId} status=200`), 'the external Key Manager saw the round trip as the provisioned identity')

    const other = await LabCa.create('some other CA')
    const otherPem = join(a.dir, 'other-ca.pem')
    await writeFile(otherPem, other.certPem)
    await writeFile(a.files.config, `tls:\n  ca: ${otherPem}\n`)
    const untrusted = await ask()
    t.match(untrusted.servers[0]?.checks.tls, { status: 'failed', reason: new RegExp(`^TLS: the server certificate is not trusted \\(verified against tls.ca '${otherPem}'\\)`) })

    await writeFile(a.files.config, 'version: v1\n')
    const system = await ask()
    t.match(system, { trust: { source: 'system' } })
    t.match(system.servers[0]?.checks.tls.reason, /^TLS: the server certificate is not trusted \(verified against the system trust store\)/)

    const stranger = generateApiKey()
    await writeFile(a.files.config, `tls:\n  ca: ${env.pki.caDir}\n`)
    const refused = await client.preflightExternalKms(node, { servers: [ext.emu.host], ...REQ, apiKey: stranger.key })
    t.match(refused.servers[0]?.checks, { tls: { status: 'ok' }, auth: { status: 'failed', reason: /refused the API key .*access denied: insufficient permissions/ }, roundTrip: { status: 'skipped' } })

    const everything = JSON.stringify([r, untrusted, system, refused]) + a.lines.join('\n') + ext.logs.text()
    t.notMatch(everything, provisioned.apiKey.reveal().slice(3), 'the provisioned key is in no answer and no log line')
    t.notMatch(everything, stranger.key.slice(3), 'nor the stranger key')
  })
})

function secretOf (key: string): { $secret: string } {
  return { $secret: key }
}
