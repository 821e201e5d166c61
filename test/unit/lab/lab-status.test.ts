// The lab's status view without a lab: the external Key Manager as `keyroll hsm migrate` needs it
// (servers and the admin key file), the migrate line `status` prints with --keyroll, and the
// emulator's root identity mode (status and the minkms wrapper that sets it).
import t from 'tap'
import { externalKms, hsmMigrateArgs } from '../../lab/lab-external.js'
import { labLayout, planNodes } from '../../lab/lab-paths.js'
import type { LabState } from '../../lab/lab-state.js'
import { labStatus, statusTable } from '../../lab/lab-status.js'
import { minkmsWrapper } from '../../lab/node-files.js'

function state (external: number, keyroll: boolean): LabState {
  const layout = labLayout(253)
  const secrets = {
    cluster: { hsmKeyFile: `${layout.secretsDir}/cluster.hsm-key`, rootKeyFile: `${layout.secretsDir}/cluster.root-api-key` },
    external: { hsmKeyFile: `${layout.secretsDir}/external.hsm-key`, rootKeyFile: `${layout.secretsDir}/external.root-api-key` }
  }
  const nodes = planNodes(layout, { nodes: 3, external, coordinator: keyroll })
    .map((p) => ({ ...p, rootKeyFile: secrets[p.role === 'external' ? 'external' : 'cluster'].rootKeyFile }))
  return {
    version: 1,
    id: 253,
    base: layout.base,
    repo: '/repo',
    phase: 'ready',
    createdAt: '2026-12-02T00:00:00Z',
    gateway: layout.gateway,
    bridge: layout.bridge,
    ca: { cert: `${layout.caDir}/ca.pem`, key: `${layout.caDir}/ca.key` },
    secrets,
    binds: [],
    nodes,
    timings: {},
    ...(keyroll && { keyroll: { url: 'https://10.77.253.5:7480', ca: `${layout.caDir}/ca.pem`, operatorTokenFile: '/o', viewerTokenFile: '/v', cluster: 'lab' } })
  }
}

t.test('status --json: external servers in order and the admin key file', async (t) => {
  const s = await labStatus(state(2, true))
  t.same(s.external, { servers: ['10.77.253.51:7373', '10.77.253.52:7373'], adminKeyFile: '/var/tmp/keyroll-lab/253/secrets/external.root-api-key' })
  t.equal((await labStatus(state(0, true))).external, null, 'no external nodes: null')
  t.equal(externalKms(state(1, false))?.servers.length, 1)
})

t.test('status prints the migrate line when the lab has keyroll and an external Key Manager', async (t) => {
  const s = await labStatus(state(2, true))
  const external = s.external
  if (external === null) throw new Error('no external')
  const line = `  npx keyroll ${hsmMigrateArgs('lab', external).join(' ')}`
  t.equal(line, '  npx keyroll hsm migrate --cluster lab --external 10.77.253.51:7373,10.77.253.52:7373 --enclave keyroll-demo --key keyroll-demo-hsm --admin-key-file /var/tmp/keyroll-lab/253/secrets/external.root-api-key')
  t.ok(statusTable(s).split('\n').includes(line), 'printed as is')
  t.notMatch(statusTable(await labStatus(state(0, true))), 'hsm migrate', 'not without external nodes')
  t.notMatch(statusTable(await labStatus(state(2, false))), 'hsm migrate', 'not without the coordinator')
})

t.test("status shows the emulator's root identity mode (stored for labs written before it existed)", async (t) => {
  const old = await labStatus(state(1, false))
  t.equal(old.rootIdentity, 'stored', 'no mode recorded: stored')
  const derived = await labStatus({ ...state(1, false), rootIdentity: 'derived' })
  t.equal(derived.rootIdentity, 'derived', 'status --json names the mode')
  t.ok(statusTable(derived).split('\n').includes('root identity: derived (emulator mode)'), 'and the table too')
})

t.test('the minkms wrapper sets the mode only when it is not the default', async (t) => {
  const main = '/opt/keyroll/dist/test/lab/emulator/main.js'
  t.notMatch(minkmsWrapper(main), 'MINKMS_EMU_ROOT_IDENTITY', 'stored: the wrapper as before')
  t.equal(minkmsWrapper(main, 'stored'), minkmsWrapper(main), 'stored is the default')
  const derived = minkmsWrapper(main, 'derived').split('\n')
  t.ok(derived.includes('export MINKMS_EMU_ROOT_IDENTITY=derived'), 'derived: exported to the emulator')
  t.equal(derived.at(-2), `exec /usr/bin/node ${main} "$@"`, 'then the emulator runs as before')
})

t.test('the minkms health lines skip the coordinator node, which runs no minkms', async (t) => {
  const table = statusTable(await labStatus(state(1, true)))
  const healthLines = table.split('\n').filter((l) => l.includes('/v1/health/ready'))
  t.equal(healthLines.length, 4, 'node1..3 and ext1')
  t.notOk(healthLines.some((l) => l.includes('10.77.253.5:')), 'no line for coord')
})
