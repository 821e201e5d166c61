// The composition root: a cluster's admin key file that other users can read is said in the log
// at start (the cluster's root credential), and the daemon still starts.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createCoordinatorParts } from '../../../coordinator/deps.js'
import { createCoordinatorLogger } from '../../../coordinator/logger.js'
import { loadCoordinatorConfig } from '../../../coordinator/config.js'
import { initPki } from '../../../coordinator/pki/site-pki.js'
import { agentPaths, caPaths, coordinatorPaths } from '../../../coordinator/pki/pki-layout.js'
import { generateApiKey } from '../../../shared/minkms/keys.js'

async function partsWithAdminKeyMode (t: Test, mode: number): Promise<string[]> {
  const dir = t.testdir({ state: {} })
  const pki = join(dir, 'pki')
  await initPki({ dir: pki, coordinatorName: 'coord', coordinatorNames: { ips: ['127.0.0.1'], dns: [] }, agents: [{ node: 'node1', ips: ['127.0.0.1'], dns: [] }] })
  const adminKey = generateApiKey('k1').key
  const adminKeyFile = join(dir, 'admin.key')
  await writeFile(adminKeyFile, adminKey + '\n', { mode })
  const coord = coordinatorPaths(pki)
  const yaml = JSON.stringify({
    tls: { cert: coord.server.crt, key: coord.server.key, clientCa: caPaths(pki).crt },
    agents: { ca: caPaths(pki).crt, cert: coord.client.crt, key: coord.client.key },
    stateDir: join(dir, 'state'),
    clusters: [{ name: 'c1', nodes: [{ name: 'node1', agent: 'https://127.0.0.1:1', minkms: '127.0.0.1:2' }], minkms: { ca: agentPaths(pki, 'node1').server.crt, adminKeyFile } }]
  })
  await writeFile(join(dir, 'coordinator.yaml'), yaml)
  const config = await loadCoordinatorConfig({ file: join(dir, 'coordinator.yaml'), env: {} })
  const lines: string[] = []
  const parts = await createCoordinatorParts(config, createCoordinatorLogger({ level: 'warn', destination: { write: (l: string) => lines.push(l) } }))
  await parts.close()
  t.notOk(lines.join('').includes(adminKey.slice(3)), 'the key itself is never logged')
  return lines
}

t.test('an admin key file others can read is warned about at start; a 0600 one is not', async (t) => {
  const open = await partsWithAdminKeyMode(t, 0o644)
  t.match(open.join(''), /the admin key file of cluster c1 can be read by other users; chmod 600 it/)
  const closed = await partsWithAdminKeyMode(t, 0o600)
  t.notMatch(closed.join(''), /can be read by other users/)
})
