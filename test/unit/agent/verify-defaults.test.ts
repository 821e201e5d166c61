// One road for a change: the same spec sent as a JSON body, as a YAML body and through the CLI
// reaches the core as the same Change, with the verify window of the agent's own config where the
// spec is silent and the spec's where it speaks. (A spec that went to wire form and back used to
// get the change model's 60 s / 5 s instead of the agent's.)
import t, { type Test } from 'tap'
import { runCli } from '../../../agent/cli.js'
import type { Change } from '../../../shared/change/change.js'
import { buildTestAgent, FakeAgentCore, testAgentConfig } from '../../helpers/fake-agent-core.js'

const AGENT_VERIFY = { deadline: '42s', stableFor: '1500ms' }
const SILENT = { revision: 7, files: { config: { set: { 'log.level': 'DEBUG' } } } }
const SILENT_YAML = 'revision: 7\nfiles:\n  config:\n    set:\n      log.level: DEBUG\n'
const AGENT_YAML = `node: node1\ndevInsecureHttp: true\nlisten: { host: 127.0.0.1, port: 0 }\nverify: { deadline: ${AGENT_VERIFY.deadline}, stableFor: ${AGENT_VERIFY.stableFor} }\n`

async function viaJson (t: Test, spec: unknown): Promise<Change | undefined> {
  const { app, core } = await buildTestAgent(t, { config: testAgentConfig({ verify: AGENT_VERIFY }) })
  const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: spec as Record<string, unknown> })
  t.equal(r.statusCode, 200, r.body)
  return core.calls[0]?.change
}

async function viaYaml (t: Test, text: string): Promise<Change | undefined> {
  const { app, core } = await buildTestAgent(t, { config: testAgentConfig({ verify: AGENT_VERIFY }) })
  const r = await app.inject({ method: 'POST', url: '/v1/plan', headers: { 'content-type': 'application/yaml' }, payload: text })
  t.equal(r.statusCode, 200, r.body)
  return core.calls[0]?.change
}

async function viaCli (t: Test, text: string): Promise<Change | undefined> {
  const dir = t.testdir({ 'agent.yaml': AGENT_YAML, 'change.yaml': text })
  const core = new FakeAgentCore()
  const out = { write: () => true }
  const code = await runCli(['plan', '--spec', `${dir}/change.yaml`, '--config', `${dir}/agent.yaml`], { stdout: out, stderr: out },
    { createCore: async () => core, env: {}, logDestination: out })
  t.equal(code, 0)
  return core.calls[0]?.change
}

t.test("a silent spec gets the agent's verify window by every road", async t => {
  const want = { deadlineMs: 42_000, stableForMs: 1500 }
  t.same((await viaJson(t, SILENT))?.verify, want, 'JSON body')
  t.same((await viaYaml(t, SILENT_YAML))?.verify, want, 'YAML body')
  t.same((await viaCli(t, SILENT_YAML))?.verify, want, 'CLI --spec')
})

t.test("the spec's own verify wins by every road; what it leaves out comes from the agent", async t => {
  const want = { deadlineMs: 3000, stableForMs: 1500 }
  t.same((await viaJson(t, { ...SILENT, verify: { deadline: '3s' } }))?.verify, want, 'JSON body')
  t.same((await viaYaml(t, `${SILENT_YAML}verify: { deadline: 3s }\n`))?.verify, want, 'YAML body')
  t.same((await viaCli(t, `${SILENT_YAML}verify: { deadline: 3s }\n`))?.verify, want, 'CLI --spec')
})

t.test('the three roads give equal changes', async t => {
  const [a, b, c] = [await viaJson(t, SILENT), await viaYaml(t, SILENT_YAML), await viaCli(t, SILENT_YAML)]
  t.same(a, b)
  t.same(b, c)
})
