// The cluster gate's per-node check: the agent (its status only) and minkms are asked at once (one
// round trip before each node of a rollout), and the answer names the agent's problem before minkms's.
import t from 'tap'
import { agentReadiness, checkNode } from '../../../../coordinator/engine/node-health.js'
import type { AgentClient } from '../../../../coordinator/ports/agent-client.js'
import type { ClusterProbe } from '../../../../coordinator/ports/cluster-probe.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import type { AgentStatus } from '../../../../shared/schemas/agent-status.js'

const node: NodeRef = { cluster: 'c1', name: 'n1', agentUrl: 'https://10.0.0.1:7480', minkms: '10.0.0.1:7373' }

function status (patch: Partial<AgentStatus> = {}): AgentStatus {
  return {
    node: 'n1',
    unit: { name: 'minkms.service', status: { activeState: 'active', subState: 'running', result: 'success', invocationId: 'a'.repeat(32), nRestarts: 0, mainPid: 1, execMainStatus: 0, loadState: 'loaded' } },
    appliedRevision: 1,
    desiredRevision: 1,
    applying: false,
    drift: [],
    checks: { config: { ok: true, message: 'ok' }, unit: { ok: true, message: 'ok' }, journal: { ok: true, message: 'ok' } },
    ...patch
  }
}

type Answer<T> = () => Promise<T>
// The agent's /health/ready is never to be asked: its status carries the same checks.
function ports (agentStatus: Answer<AgentStatus>, minkms: Answer<boolean>): { agents: AgentClient, probe: ClusterProbe, asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    agents: {
      ready: async () => { asked.push('ready'); throw new Error('the agent\'s /health/ready was asked') },
      status: async () => { asked.push('status'); return await agentStatus() }
    } as unknown as AgentClient,
    probe: { ready: async () => { asked.push('minkms'); return await minkms() } } as unknown as ClusterProbe
  }
}

const ok = async (): Promise<boolean> => true
const no = async (): Promise<boolean> => false
const fails = (what: string) => async (): Promise<never> => { throw new Error(`${what} unreachable`) }
const notReady = status({ checks: { config: { ok: true, message: 'ok' }, unit: { ok: true, message: 'ok' }, journal: { ok: false, message: 'cannot read the journal: boom' } } })

t.test('one question to the agent (its status) and one to minkms, at once', async t => {
  let answer: (v: AgentStatus) => void = () => {}
  const agentStatus = new Promise<AgentStatus>((resolve) => { answer = resolve })
  const p = ports(async () => await agentStatus, ok)
  const verdict = checkNode(p.agents, p.probe, node)
  await new Promise((resolve) => setImmediate(resolve))
  t.same([...p.asked].sort(), ['minkms', 'status'], 'minkms asked before the agent answered; no /health/ready')
  answer(status())
  t.same(await verdict, { node: 'n1', healthy: true, message: 'n1: healthy' })
  t.same([...p.asked].sort(), ['minkms', 'status'])
})

t.test("the agent's readiness is its status's checks, as /health/ready computes it", async t => {
  t.same(agentReadiness(status()), { ready: true, message: 'ready' })
  const r = agentReadiness(notReady)
  t.equal(r.ready, false)
  t.equal(r.message, 'its agent is not ready (journal: cannot read the journal: boom)')
})

t.test("the agent's problem is named first, as when they were asked in turn", async t => {
  const cases: Array<[string, ReturnType<typeof ports>, RegExp]> = [
    ['agent not ready, minkms down', ports(async () => notReady, fails('minkms')), /^n1: its agent is not ready \(journal: cannot read the journal: boom\)$/],
    ['agent unreachable, minkms not ready', ports(fails('agent'), no), /^n1: its agent cannot be asked: .*agent unreachable/],
    ['drift, minkms not ready', ports(async () => status({ drift: [{ name: 'config', path: '/etc/minkms/config.yaml', fingerprint: 'a', expected: 'b', since: 0 }] }), no), /^n1: drift: config changed outside keyroll$/],
    ['unit failed', ports(async () => status({ unit: { name: 'minkms.service', status: { activeState: 'failed', subState: 'failed', result: 'exit-code', invocationId: '', nRestarts: 1, mainPid: 0, execMainStatus: 1, loadState: 'loaded' } } }), ok), /^n1: minkms.service is failed \(failed\)$/],
    ['applying', ports(async () => status({ applying: true }), ok), /^n1: its agent is applying a change$/],
    ['agent fine, minkms down', ports(async () => status(), fails('minkms')), /^n1: minkms cannot be asked: .*minkms unreachable/],
    ['agent fine, minkms not ready', ports(async () => status(), no), /^n1: minkms is not ready$/]
  ]
  for (const [name, p, message] of cases) {
    const v = await checkNode(p.agents, p.probe, node)
    t.equal(v.healthy, false, `${name}: unhealthy`)
    t.match(v.message, message, `${name}: ${v.message}`)
    t.notOk(p.asked.includes('ready'), `${name}: the agent's /health/ready not asked`)
  }
})
