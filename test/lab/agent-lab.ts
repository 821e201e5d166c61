// A lab whose cluster nodes run the real keyroll-agent under systemd (systemd/keyroll-agent.service,
// the compiled agent from /opt/keyroll/dist), with HTTPS + client certificates from an agent CA
// of the test's own, and an HTTP client for the tests.
import { Agent, request } from 'undici'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { probe } from './health.js'
import { LabCa } from './lab-ca.js'
import { AGENT_PORT, AGENT_UNIT, agentUnit, installAgent } from './lab-agents.js'
import { repoRoot } from './repo.js'
import { startLab, type Lab, type LabNode, type TeardownHost } from './start-lab.js'

export { AGENT_CONFIG, AGENT_PORT, AGENT_UNIT, agentConfig } from './lab-agents.js'
export const ENCLAVE = 'aistor-key-manager'
export const HSM_KEY_NAME = 'aistor-key-manager-hsm'

export interface AgentResponse { status: number, text: string, json: unknown }

/** What an apply streamed: its events and its final line. */
export interface StreamedApply { status: number, lines: unknown[], result: Record<string, unknown> | undefined, text: string }

export interface AgentLab {
  lab: Lab
  agentCa: LabCa
  /** A request to a node's agent with the test's client certificate. */
  call (node: LabNode | string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<AgentResponse>
  /** POST /v1/apply (or /v1/rollback), read to the end. */
  apply (node: LabNode | string, change: unknown, path?: string): Promise<StreamedApply>
  /**
   * POST /v1/apply, handing each NDJSON line to `onLine` as it arrives. Resolves when the stream
   * ends or breaks (`broken`: the connection died before the result line, e.g. the agent was killed).
   */
  applyStream (node: LabNode | string, change: unknown, onLine: (line: unknown) => void): Promise<{ status: number, lines: unknown[], broken: boolean }>
  /** Waits until every cluster node's agent answers /health/ready 200. */
  ready (): Promise<void>
  /** The external Key Manager provisioned as in docs/design.md (HSM workflow steps 1-2); the admin API key. */
  provisionExternal (): Promise<{ apiKey: string, identity: string }>
  /** The HSM change of docs/design.md (HSM workflow step 3, and step 4 with unsetHsmKey). */
  hsmChange (revision: number, apiKey: string, opts?: { unsetHsmKey?: boolean }): unknown
  /** InvocationID of minkms.service on the node. */
  invocation (node: LabNode | string): Promise<string>
}

/** CN of the tests' client certificate: the one name the agents answer (tls.allowedClients). */
const TEST_CLIENT = 'keyroll test client'

/** Boots a lab whose cluster nodes run keyroll-agent. */
export async function startAgentLab (t: TeardownHost, opts: { nodes?: number, external?: number } = {}): Promise<AgentLab> {
  const agentCa = await LabCa.create('keyroll agent CA (lab)')
  const lab = await startLab(t, {
    nodes: opts.nodes ?? 3,
    external: opts.external ?? 1,
    extraUnits: [await agentUnit(repoRoot())],
    prepareNode: async (node, root) => { if (node.role === 'cluster') await installAgent(root, node, agentCa, [TEST_CLIENT]) }
  })
  const client = await agentCa.issue({ commonName: TEST_CLIENT, usage: ['client'] })
  const dispatcher = new Agent({ connect: { ca: agentCa.certPem, cert: client.cert, key: client.key }, headersTimeout: 120_000, bodyTimeout: 120_000 })
  t.teardown(async () => { await dispatcher.close() })
  const node = (ref: LabNode | string): LabNode => typeof ref === 'string' ? lab.node(ref) : ref

  const call = async (ref: LabNode | string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<AgentResponse> => {
    const n = node(ref)
    const res = await request(`https://${n.address}:${AGENT_PORT}${path}`, {
      method,
      dispatcher,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    })
    const text = await res.body.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    return { status: res.statusCode, text, json }
  }

  const agentLab: AgentLab = {
    lab,
    agentCa,
    call,
    apply: async (ref, change, path = '/v1/apply') => {
      const r = await call(ref, 'POST', path, change)
      const lines = r.text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown)
      const last = lines.at(-1) as { result?: Record<string, unknown> } | undefined
      return { status: r.status, lines, result: last?.result, text: r.text }
    },
    applyStream: async (ref, change, onLine) => {
      const n = node(ref)
      const res = await request(`https://${n.address}:${AGENT_PORT}/v1/apply`, {
        method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(change)
      })
      const lines: unknown[] = []
      let rest = ''
      let broken = false
      try {
        for await (const chunk of res.body) {
          rest += (chunk as Buffer).toString('utf8')
          let nl: number
          while ((nl = rest.indexOf('\n')) >= 0) {
            const text = rest.slice(0, nl).trim()
            rest = rest.slice(nl + 1)
            if (text === '') continue
            const line = JSON.parse(text) as unknown
            lines.push(line)
            onLine(line)
          }
        }
      } catch {
        broken = true
      }
      const last = lines.at(-1) as { result?: unknown } | undefined
      return { status: res.statusCode, lines, broken: broken || last?.result === undefined }
    },
    ready: async () => {
      for (const n of lab.nodes.filter((x) => x.role === 'cluster')) {
        try {
          await lab.waitFor(async () => (await call(n, 'GET', '/health/ready').catch(() => ({ status: 0 }))).status === 200,
            { timeoutMs: 30_000, what: `${n.name} agent ready` })
        } catch (err) {
          // What the agent said is the diagnosis: put it in the failure.
          const journal = await lab.exec(n, ['journalctl', '-u', AGENT_UNIT, '-o', 'cat', '--no-pager', '-n', '40'], { okCodes: [0, 1] }).then((r) => r.stdout, () => '(no journal)')
          throw new Error(`${(err as Error).message}\n--- journalctl -u ${AGENT_UNIT} on ${n.name}:\n${journal}`, { cause: err })
        }
      }
    },
    provisionExternal: async () => {
      const ext = lab.nodes.find((n) => n.role === 'external')
      if (ext === undefined) throw new Error('the lab has no external Key Manager')
      const root = createMinkmsClient({ endpoints: [`${ext.address}:${ext.port}`], apiKey: lab.rootKey('external'), ca: lab.ca.pem })
      try {
        await root.createEnclave(ENCLAVE)
        const admin = generateApiKey('k1')
        await root.createIdentity(ENCLAVE, { identity: admin.identity, privilege: 'Admin' })
        const asAdmin = createMinkmsClient({ endpoints: [`${ext.address}:${ext.port}`], apiKey: admin.key, ca: lab.ca.pem })
        try { await asAdmin.createKey(ENCLAVE, HSM_KEY_NAME) } finally { await asAdmin.close() }
        return { apiKey: admin.key, identity: admin.identity }
      } finally {
        await root.close()
      }
    },
    hsmChange: (revision, apiKey, o = {}) => {
      const servers = lab.nodes.filter((n) => n.role === 'external').map((n) => `${n.address}:${n.port}`)
      return {
        revision,
        files: {
          config: { set: { 'hsm.minio.minkms': { server: servers, enclave: ENCLAVE, key: HSM_KEY_NAME, auth: { key: { $secret: apiKey } } } } },
          ...(o.unsetHsmKey === true ? { env: { unset: ['MINIO_KMS_HSM_KEY'] } } : {})
        },
        verify: { deadline: '30s', stableFor: '1s' }
      }
    },
    invocation: async (ref) => (await lab.systemctl(node(ref), 'show', '-p', 'InvocationID', '--value', 'minkms')).stdout.trim()
  }
  return agentLab
}

/** minkms on `node` answers ready over TLS. */
export async function minkmsReady (lab: Lab, n: LabNode): Promise<boolean> {
  return await probe(n.address, n.port, 'ready', lab.ca.pem) === 200
}
