import t, { type Test } from 'tap'
import { join } from 'node:path'
import { request } from 'undici'
import { EXIT, runCli, type CliDeps, type CreateCore } from '../../../agent/cli.js'
import { ChangeConflictError } from '../../../agent/errors.js'
import { FakeAgentCore, type FakeAgentCoreOptions } from '../../helpers/fake-agent-core.js'
import { validateChange } from '../../../shared/change/validate-change.js'

const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
const HSM_KEY = 'hsm:aes256:bWluaW8ta21zLWhzbS1rZXktZm9yLXRlc3RzLW9ubHk='

const SPEC_YAML = `revision: 12
files:
  config:
    set:
      hsm.minio.minkms:
        server: [kms0.hsm.example.net:7373]
        enclave: aistor-key-manager
        key: aistor-key-manager-hsm
        auth:
          key: !secret ${API_KEY}
  env:
    set:
      MINIO_KMS_HSM_KEY: !secret ${HSM_KEY}
`
const SPEC_JSON = JSON.stringify({ revision: 3, files: { env: { unset: ['MINIO_KMS_HSM_KEY'] } } })
const AGENT_YAML = 'node: node1\ndevInsecureHttp: true\nlisten: { host: 127.0.0.1, port: 0 }\n'

interface Run { code: number, stdout: string, stderr: string, logs: string, core: FakeAgentCore, modes: string[] }

function setup (t: Test, files: Record<string, string> = {}): string {
  return t.testdir({ 'agent.yaml': AGENT_YAML, 'change.yaml': SPEC_YAML, 'change.json': SPEC_JSON, ...files })
}

async function cli (dir: string, argv: string[], opts: { core?: FakeAgentCore, coreOptions?: FakeAgentCoreOptions, deps?: Partial<CliDeps> } = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const logs: string[] = []
  const core = opts.core ?? new FakeAgentCore(opts.coreOptions)
  const modes: string[] = []
  const createCore: CreateCore = async (config, logger, { mode }) => {
    modes.push(mode)
    t.equal(config.node, 'node1')
    logger.info({ mode }, 'core created')
    return core
  }
  const code = await runCli(argv.map(a => a.replace('$DIR', dir)), {
    stdout: { write: (s: string) => { stdout += s } },
    stderr: { write: (s: string) => { stderr += s } }
  }, { createCore, env: {}, logDestination: { write: (l: string) => logs.push(l) }, ...opts.deps })
  return { code, stdout, stderr, logs: logs.join(''), core, modes }
}

const CFG = ['--config', '$DIR/agent.yaml']

t.test('plan: Ansible-style line plus the masked diff; the core gets the wire form', async t => {
  const dir = setup(t)
  const r = await cli(dir, ['plan', '--spec', '$DIR/change.yaml', ...CFG])
  t.equal(r.code, EXIT.ok)
  t.match(r.stdout, /^changed: \[node1\] revision 12 \(would restart minkms\.service\)\n/)
  t.match(r.stdout, /--- \/etc\/minkms\/config\.yaml\n\+\+\+ \/etc\/minkms\/config\.yaml\n\+hsm\.minio\.minkms\.server=/)
  t.equal(r.stdout.match(/^--- /gm)?.length, 2, 'one diff header per file (config and env)')
  t.match(r.stdout, /\+MINIO_KMS_HSM_KEY=\*\*\*/)
  t.same(r.modes, ['read'], 'plan changes nothing: no recovery')
  t.ok(r.core.closed, 'core closed after the command')
  t.match(r.core.calls[0], { method: 'plan', input: { revision: 12, files: { env: { set: { MINIO_KMS_HSM_KEY: { $secret: HSM_KEY } } } } } })
  const json = await cli(dir, ['plan', '--spec', '$DIR/change.json', ...CFG])
  t.match(json.stdout, /^changed: \[node1\] revision 3/, 'JSON specs by extension')
})

t.test('plan warns when an interrupted apply is on disk (the plan is against the files as they are)', async t => {
  const dir = setup(t)
  const quiet = await cli(dir, ['plan', '--spec', '$DIR/change.yaml', ...CFG])
  t.equal(quiet.stderr, '', 'no warning normally')
  const core = new FakeAgentCore()
  core.readyResult = { ok: false, checks: { ...core.readyResult.checks, config: { ok: false, message: 'an apply of revision 11 (started 2026-12-01T06:00:00.000Z) was interrupted: the agent finishes or undoes it when it starts (keyroll-agent recover)' } } }
  const r = await cli(dir, ['plan', '--spec', '$DIR/change.yaml', ...CFG], { core })
  t.equal(r.code, EXIT.ok)
  t.match(r.stdout, /^changed: \[node1\] revision 12/)
  t.equal(r.stderr, 'warning: an apply of revision 11 (started 2026-12-01T06:00:00.000Z) was interrupted: the agent finishes or undoes it when it starts (keyroll-agent recover)\n')
})

t.test('apply: changed, then ok on the same revision', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore()
  const first = await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })
  t.equal(first.code, EXIT.ok)
  t.equal(first.stdout, 'changed: [node1] revision 3 (restarted minkms.service, ready after 0.41 s)\n')
  const again = await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })
  t.equal(again.code, EXIT.ok)
  t.equal(again.stdout, 'ok: [node1] revision 3\n')
})

t.test('apply --check and --diff', async t => {
  const dir = setup(t)
  const r = await cli(dir, ['apply', '--spec', '$DIR/change.yaml', '--check', '--diff', ...CFG])
  t.equal(r.code, EXIT.ok)
  t.match(r.stdout, /^changed: \[node1\] revision 12 \(check mode; would restart minkms\.service\)\n--- \/etc\/minkms\/config\.yaml\n/)
  t.equal(r.core.calls[0]?.check, true)
  const plain = await cli(dir, ['apply', '--spec', '$DIR/change.yaml', ...CFG])
  t.notMatch(plain.stdout, /---/, 'no diff without --diff')
})

t.test('apply: rolled back → exit 1 with the verdict evidence', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore()
  core.scripts.push({ result: 'rolled-back', failedStep: 'verify' })
  const r = await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })
  t.equal(r.code, EXIT.failed)
  t.match(r.stdout, /^failed: \[node1\] revision 3: minkms logged a fatal line; restored the previous files \(step verify\); rolled back\n/)
  t.match(r.stdout, /verdict: minkms\.service logged a fatal line\n {4}fatal: FATAL: cannot unseal/)
})

t.test('apply: failed without rollback → 1; rollback failed → 3', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore()
  core.scripts.push({ result: 'failed', failedStep: 'write' }, { result: 'rollback-failed' })
  t.equal((await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })).code, EXIT.failed)
  const r = await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })
  t.equal(r.code, EXIT.needsAttention)
  t.match(r.stdout, /ROLLBACK FAILED, the node needs attention/)
})

t.test('apply: an unexpected exception after the lock → 3 (state unknown)', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore()
  core.scripts.push({ throwAfterWrite: new Error('EIO') })
  const r = await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })
  t.equal(r.code, EXIT.needsAttention)
  t.match(r.stderr, /^error: EIO/)
})

t.test('apply: a conflicting apply is refused → 2', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore()
  core.apply = async () => { throw new ChangeConflictError('revision 9') }
  const r = await cli(dir, ['apply', '--spec', '$DIR/change.json', ...CFG], { core })
  t.equal(r.code, EXIT.badInput)
  t.match(r.stderr, /error: AGT_CHANGE_CONFLICT: another change is in progress on this node \(revision 9\)/)
})

t.test('apply -v prints each step to stderr', async t => {
  const dir = setup(t)
  const r = await cli(dir, ['apply', '-v', '--spec', '$DIR/change.json', ...CFG])
  t.match(r.stderr, / {2}plan: started\n/)
  t.match(r.stderr, / {2}verify: done\n/)
})

t.test('bad spec files → 2, naming the problem', async t => {
  const dir = setup(t, {
    'broken.yaml': 'revision: 1\nfiles: [\n',
    'invalid.yaml': 'revision: 0\nfiles:\n  env:\n    set:\n      bad-name: x\nextra: 1\n',
    'broken.json': '{"revision": 1,'
  })
  const missing = await cli(dir, ['plan', '--spec', '$DIR/nope.yaml', ...CFG])
  t.equal(missing.code, EXIT.badInput)
  t.match(missing.stderr, /AGT_SPEC_UNREADABLE: cannot read spec file .*nope\.yaml: ENOENT/)
  const broken = await cli(dir, ['apply', '--spec', '$DIR/broken.yaml', ...CFG])
  t.equal(broken.code, EXIT.badInput)
  t.match(broken.stderr, /SHR_CHANGE_SPEC_SYNTAX: .*line \d/)
  const invalid = await cli(dir, ['apply', '--spec', '$DIR/invalid.yaml', ...CFG])
  t.equal(invalid.code, EXIT.badInput)
  t.match(invalid.stderr, /SHR_CHANGE_INVALID/)
  t.match(invalid.stderr, /revision: .*\(line 1/)
  t.match(invalid.stderr, /extra: unknown field/)
  t.equal((await cli(dir, ['plan', '--spec', '$DIR/broken.json', ...CFG])).code, EXIT.badInput)
  t.equal(invalid.core.calls.length, 0, 'the core never saw a bad spec')
})

t.test('bad command lines → 2; --help → 0', async t => {
  const dir = setup(t)
  const unknown = await cli(dir, ['apply', '--spec', '$DIR/change.json', '--force', ...CFG])
  t.equal(unknown.code, EXIT.badInput)
  t.match(unknown.stderr, /unknown option '--force'/)
  t.equal((await cli(dir, ['apply', ...CFG])).code, EXIT.badInput, 'missing --spec')
  t.equal((await cli(dir, ['frobnicate'])).code, EXIT.badInput, 'unknown command')
  t.equal((await cli(dir, [])).code, EXIT.badInput, 'no command')
  t.equal((await cli(dir, ['plan', '--spec', 'x', '--log-level', 'chatty', ...CFG])).code, EXIT.badInput, 'bad choice')
  const help = await cli(dir, ['--help'])
  t.equal(help.code, EXIT.ok)
  t.match(help.stdout, /serve.*\n.*plan.*\n.*apply.*\n.*status/s)
})

t.test('bad agent config → 2, naming the field and the fix', async t => {
  const dir = setup(t, { 'bad.yaml': 'devInsecureHttp: true\nlisten:\n  port: 99999\n' })
  const r = await cli(dir, ['status', '--config', '$DIR/bad.yaml'])
  t.equal(r.code, EXIT.badInput)
  t.match(r.stderr, /SHR_DAEMON_CONFIG_INVALID: invalid agent config/)
  t.match(r.stderr, /listen\.port: must be a TCP port, 0-65535 \(line 3/)
  t.same(r.modes, [], 'no core was built')
  const missing = await cli(dir, ['status', '--config', '$DIR/none.yaml'])
  t.equal(missing.code, EXIT.badInput)
  t.match(missing.stderr, /SHR_DAEMON_CONFIG_UNREADABLE: cannot read config file .*none\.yaml: ENOENT/)
  const flag = await cli(dir, ['serve', ...CFG, '--listen-host', '0.0.0.0'])
  t.equal(flag.code, EXIT.badInput, 'flags are validated with the rest')
  t.match(flag.stderr, /devInsecureHttp: plain HTTP is allowed only on a loopback address/)
})

t.test('status: one line per concern, or JSON with the API fields only', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore({ leaky: true })
  await core.apply(validateChange({ revision: 4, files: { env: { set: { A: 'b' } } } }))
  const r = await cli(dir, ['status', ...CFG], { core })
  t.equal(r.code, EXIT.ok)
  t.match(r.stdout, /^\[node1\] minkms\.service active\/running; revision 4 \(desired 4\); no drift\n {2}last: changed revision 4 at \d{4}-.*: revision 4 applied\n {2}checks: config ok, unit ok, journal ok\n$/)
  const json = await cli(dir, ['status', '--json', ...CFG], { core })
  const parsed = JSON.parse(json.stdout) as Record<string, unknown>
  t.match(parsed, { node: 'node1', appliedRevision: 4 })
  t.notOk('debug' in parsed, 'fields outside the schema are dropped')
})

t.test('serve: listens, answers, stops cleanly and closes the core', async t => {
  const dir = setup(t)
  const stop = new AbortController()
  let address = ''
  const running = cli(dir, ['serve', ...CFG], { deps: { stopSignal: stop.signal, onListening: a => { address = a; stop.abort() } } })
  // onListening aborts at once; the request below races the close, so only check the address.
  const r = await running
  t.equal(r.code, EXIT.ok)
  t.match(address, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.same(r.modes, ['daemon'])
  t.ok(r.core.closed)
  t.match(r.logs, /"msg":"plain http on loopback: development only"/)
  t.match(r.logs, /"msg":"listening"/)
})

t.test('serve: requests are answered until it stops', async t => {
  const dir = setup(t)
  const stop = new AbortController()
  let ready: (a: string) => void = () => {}
  const listening = new Promise<string>(resolve => { ready = resolve })
  const running = cli(dir, ['serve', ...CFG, '--listen-port', '0'], { deps: { stopSignal: stop.signal, onListening: a => { ready(a) } } })
  t.teardown(async () => { stop.abort(); await running })
  const res = await request(`${await listening}/health/live`)
  t.equal(res.statusCode, 200)
  t.same(await res.body.json(), { ok: true })
})

t.test('serve: unreadable TLS material → 2 naming the field', async t => {
  const dir = setup(t, { 'tls.yaml': 'listen: { host: 127.0.0.1, port: 0 }\ntls:\n  cert: /nonexistent/agent.pem\n  key: /nonexistent/agent.key\n  clientCa: /nonexistent/ca.pem\n' })
  const r = await cli(dir, ['serve', '--config', join(dir, 'tls.yaml')])
  t.equal(r.code, EXIT.badInput)
  t.match(r.stderr, /AGT_TLS_UNREADABLE: tls\.cert: cannot read \/nonexistent\/agent\.pem \(ENOENT\)/)
  t.same(r.modes, [])
})

t.test('serve: a port in use → 1, core closed', async t => {
  const dir = setup(t)
  const stop = new AbortController()
  let ready: (a: string) => void = () => {}
  const listening = new Promise<string>(resolve => { ready = resolve })
  const first = cli(dir, ['serve', ...CFG], { deps: { stopSignal: stop.signal, onListening: a => { ready(a) } } })
  t.teardown(async () => { stop.abort(); await first })
  const port = new URL(await listening).port
  const second = await cli(dir, ['serve', ...CFG, '--listen-port', port])
  t.equal(second.code, EXIT.failed)
  t.match(second.logs, /"msg":"cannot listen"/)
  t.ok(second.core.closed)
})

t.test('no secret value reaches stdout, stderr or the log, even from a careless core', async t => {
  const dir = setup(t)
  const core = new FakeAgentCore({ leaky: true })
  const runs = [
    await cli(dir, ['plan', '--spec', '$DIR/change.yaml', ...CFG], { core }),
    await cli(dir, ['apply', '-v', '--diff', '--spec', '$DIR/change.yaml', ...CFG, '--log-level', 'trace'], { core }),
    await cli(dir, ['status', '--json', ...CFG], { core })
  ]
  for (const r of runs) {
    for (const secret of [API_KEY, HSM_KEY]) {
      t.notOk(`${r.stdout}${r.stderr}${r.logs}`.includes(secret), `${secret.slice(0, 6)}… not printed`)
    }
  }
  t.match(runs[1]?.stdout, /\*\*\*/, 'masked values are shown as ***')
})

t.test('recover: reports what the core did', async t => {
  const dir = setup(t)
  const plain = await cli(dir, ['recover', ...CFG])
  t.equal(plain.code, EXIT.ok)
  t.equal(plain.stdout, 'ok: [node1] revision 0 (nothing to recover)\n')
  t.same(plain.modes, ['recover'])
  const core = Object.assign(new FakeAgentCore(), { recover: async () => ({ action: 'undone' as const, revision: 11, message: 'restored config and env of revision 11' }) })
  const undone = await cli(dir, ['recover', ...CFG], { core })
  t.equal(undone.stdout, 'changed: [node1] revision 11 (undone an interrupted change: restored config and env of revision 11)\n')
  const none = await cli(dir, ['recover', ...CFG], { core: Object.assign(new FakeAgentCore(), { recover: async () => ({ action: 'none' as const, revision: 11, message: '' }) }) })
  t.equal(none.stdout, 'ok: [node1] revision 11 (nothing to recover)\n')
  const failing = await cli(dir, ['recover', ...CFG], { core: Object.assign(new FakeAgentCore(), { recover: async () => { throw new Error('backup of revision 11 missing') } }) })
  t.equal(failing.code, EXIT.needsAttention)
  t.match(failing.stderr, /backup of revision 11 missing/)
})
