// The pure parts of the migration's checks: the HSM blocks read from a real plan diff, the
// preflight findings (refusal or warning), the self-sealing servers.
import t from 'tap'
import { planChange } from '../../../../shared/change/plan.js'
import { validateChange } from '../../../../shared/change/validate-change.js'
import { hsmBlocksOfDiff, hsmProbeChange } from '../../../../coordinator/hsm/hsm-blocks.js'
import { preflightFindings } from '../../../../coordinator/hsm/preflight-findings.js'
import { normalizeEndpoint, selfSealingServers } from '../../../../coordinator/hsm/self-seal.js'
import type { ExternalKmsPreflightResult } from '../../../../shared/schemas/preflight.js'

const CONFIG = [
  'version: v1',
  '# the cluster',
  'address: 0.0.0.0:7373',
  'hsm:',
  '  # a vendor HSM',
  '  aws:',
  '    kms:',
  '      region: eu-west-1',
  '      auth:',
  '        key: k1:ZXhhbXBsZS1zZWNyZXQtbm90LXJlYWwtMTIzNDU2Nzg5MA',
  '  minio:',
  '    minkms:',
  '      server: [kms0:7373]',
  '      enclave: e',
  '      key: k',
  'log:',
  '  level: info',
  ''
].join('\n')

function diffOf (config: string): string {
  const plan = planChange({ config }, validateChange(hsmProbeChange(7)), { fingerprintKey: 'k' })
  return plan.files.config?.diff ?? ''
}

t.test('the HSM blocks of a config, from the agent\'s own plan diff (secrets masked)', async (t) => {
  const diff = diffOf(CONFIG)
  t.match(diff, /\*\*\*/, 'the diff masks the key')
  t.notMatch(diff, /ZXhhbXBsZS1z/)
  t.same(hsmBlocksOfDiff(diff), ['hsm.aws.kms', 'hsm.minio.minkms'])
  t.same(hsmBlocksOfDiff(diffOf('version: v1\nlog:\n  level: info\n')), [], 'no hsm block: no diff, no block')
  t.same(hsmBlocksOfDiff(diffOf('version: v1\nhsm: { vault: { url: x } }\n')), ['hsm.vault'], 'a flow block, one level')
  t.same(hsmBlocksOfDiff(diffOf('version: v1\nhsm:\n  "acme.io":\n    hsm:\n      url: x\n')), ['hsm."acme.io".hsm'], 'a key with a dot is quoted, so the path names it')
})

const ok = { status: 'ok' as const, ms: 1 }
function answer (node: string, servers: Record<string, true | string>): ExternalKmsPreflightResult {
  const list = Object.entries(servers).map(([server, v]) => v === true
    ? { server, ok: true, checks: { tls: ok, auth: ok, roundTrip: ok }, ms: 1 }
    : { server, ok: false, checks: { tls: ok, auth: { status: 'failed' as const, reason: v }, roundTrip: { status: 'skipped' as const } }, ms: 1 })
  return { node, ok: list.every((s) => s.ok), reachable: list.filter((s) => s.ok).length, trust: { source: 'system' }, servers: list }
}

t.test('preflight: warnings while every node has a server, refusals naming node and server otherwise', async (t) => {
  const servers = ['a:7373', 'b:7373']
  t.same(preflightFindings(servers, [{ node: 'n1', result: answer('n1', { 'a:7373': true, 'b:7373': true }) }]), { problems: [], warnings: [] })
  const some = preflightFindings(servers, [
    { node: 'n1', result: answer('n1', { 'a:7373': true, 'b:7373': 'access denied' }) },
    { node: 'n2', result: answer('n2', { 'a:7373': true, 'b:7373': true }) }
  ])
  t.same(some, { problems: [], warnings: ['node n1 cannot use b:7373 (auth: access denied); it will use a:7373'] })
  const none = preflightFindings(servers, [
    { node: 'n1', result: answer('n1', { 'a:7373': 'x', 'b:7373': 'y' }) },
    { node: 'n2', result: answer('n2', { 'a:7373': true, 'b:7373': 'y' }) },
    { node: 'n3', error: 'CRD_AGENT_UNREACHABLE: connect ECONNREFUSED' }
  ])
  t.same(none.problems, [
    'external server b:7373 failed from every node (n1: auth: y; n2: auth: y)',
    'node n3: the preflight could not run (CRD_AGENT_UNREACHABLE: connect ECONNREFUSED)',
    'node n1 cannot use any external server: a:7373 (auth: x), b:7373 (auth: y)'
  ])
})

t.test('self-sealing servers are found whatever the spelling of host and port', async (t) => {
  t.equal(normalizeEndpoint('KMS0'), 'kms0:7373')
  t.equal(normalizeEndpoint('[::1]'), '[::1]:7373')
  t.equal(normalizeEndpoint('::1'), '[::1]:7373')
  const nodes = [{ cluster: 'c', name: 'n1', agentUrl: 'https://x', minkms: '10.0.0.1:7373' }, { cluster: 'c', name: 'n2', agentUrl: 'https://y', minkms: 'node2.lab:7373' }]
  t.same(selfSealingServers(['10.0.0.1', 'NODE2.lab:7373', 'kms:7373', '10.0.0.1:7374'], nodes), [{ server: '10.0.0.1', node: 'n1' }, { server: 'NODE2.lab:7373', node: 'n2' }])
})
