// keyroll hsm migrate|status|watch|pause|resume|abort|list against the real coordinator API in
// process (HTTPS on loopback, real tokens) over a FakeHsmMigrationControl: the admin key read
// from its file and sent as { $secret } (refused when missing, empty or world-readable, exit 2,
// nothing sent), the API key written to --api-key-out (0600) and nowhere else, the migration
// followed live (plain lines, or a redrawn block on a TTY; a stream that ends early resumed from
// the next index), the final report per node and --report JSON, exit 0/1/2; and neither key in
// any output or coordinator log line.
import t, { type Test } from 'tap'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Value } from 'typebox/value'
import { HsmMigrationReportSchema, type HsmMigration } from '../../../../shared/schemas/hsm-migration.js'
import { FAKE_API_KEY } from '../../../helpers/fake-hsm-migration-control.js'
import { RUN_MS, scriptRun } from './hsm-fixtures.js'
import { realCoordinator, type RealCoordinator } from './real-coordinator.js'
import { cli } from './stand-in.js'

// The hints name the command as `keyroll` unless run under npx (cli-name.ts): pinned, whatever runs these tests.
delete process.env.npm_command

// Not shaped like a minkms key, so the masks that catch k1:/k2: keys would not hide it.
const ADMIN_KEY = 'root-admin-Zx81qQp0TopSecretValue'

async function adminKeyFile (c: RealCoordinator, content = `${ADMIN_KEY}\n`, mode = 0o600): Promise<string> {
  const path = join(c.dir, `admin-${Math.random().toString(36).slice(2)}.key`)
  await writeFile(path, content, { mode })
  await chmod(path, mode)
  return path
}

function migrateArgs (keyFile: string, ...more: string[]): string[] {
  return ['hsm', 'migrate', '--cluster', 'c1', '--external', 'kms0:7373,kms1:7373', '--enclave', 'keyroll', '--key', 'minkms-seal', '--admin-key-file', keyFile, ...more]
}

const eventLines = (text: string): string[] => text.split('\n').filter(l => /^\d\d:\d\d:\d\d\.\d{3} /.test(l))

function noSecrets (t: Test, c: RealCoordinator, ...texts: string[]): void {
  const all = texts.join('\n') + c.logs.join('')
  t.notMatch(all, ADMIN_KEY, 'the admin key is in no output and no coordinator log line')
  t.notMatch(all, FAKE_API_KEY.slice(3), 'nor is the API key')
}

t.test('migrate: the admin key as { $secret }, the API key to its 0600 file only, followed to the end, the report per node; exit 0', async t => {
  const c = await realCoordinator(t)
  c.migrations.onStart = id => { scriptRun(c.migrations, id, 'succeeded') }
  const keyOut = join(c.dir, 'admin-identity.key')
  const report = join(c.dir, 'report.json')
  const r = await cli(migrateArgs(await adminKeyFile(c), '--api-key-out', keyOut, '--report', report), { env: c.env })
  t.equal(r.code, 0, r.stderr)

  const call = c.migrations.calls[0]
  t.equal(call?.adminKey?.reveal(), ADMIN_KEY, 'the admin key reached the orchestrator')
  t.match(call?.request, { cluster: 'c1', external: ['kms0:7373', 'kms1:7373'], enclave: 'keyroll', key: 'minkms-seal', keepLocalHsm: false, replaceHsm: false, removeLocalSealedCopy: false, dryRun: false, revealApiKey: true, actor: 'bob' })
  t.equal(await readFile(keyOut, 'utf8'), `${FAKE_API_KEY}\n`, 'the API key is in its file')
  t.equal((await stat(keyOut)).mode & 0o777, 0o600, 'mode 0600')
  t.match(r.stdout, `the Admin identity's API key is in ${keyOut} (mode 0600); it is not shown again`)

  t.match(r.stdout, /started HSM migration m1 on cluster c1/)
  t.match(r.stdout, /\d\d:\d\d:\d\d\.\d{3} \[provision\] - provision: enclave keyroll created/)
  t.match(r.stdout, /\[A\] node2 \| minkms: listening on :7373/, 'journal lines as rollout watch shows them, with their phase')
  t.match(r.stdout, /\[B\] node3 step: node3 done/)
  const shown = eventLines(r.stdout)
  t.equal(shown.length, (await c.migrations.events('m1')).length, 'one line per event')
  t.equal(new Set(shown).size, shown.length, 'none twice')
  t.match(r.stdout, /HSM migration m1 on cluster c1: succeeded \(took 1 min 35\.5 s\)/, 'total time')
  t.match(r.stdout, /provision: enclave created, identity created \(h1:abc\), key created in 310 ms/)
  t.match(r.stdout, /node1 {2}A: done, 1 restart, verdict ok \(ready\), external HSM holds its sealed root key, restart to verdict 2\.5 s\n.*gate ok: journal ok, internode 12 ms via node2, client 8 ms, write-ready 20 ms, hsm:minio:minkms sealing 40 ms\n.*verdict: minkms started and is ready\n.*ready line 1\.8 s after the restart/)
  t.match(r.stdout, / {8}B: done, 1 restart, verdict ok \(ready\)/)
  t.match(r.stdout, /rollouts: A r1, B r2/)
  t.match(r.stdout, `report written to ${report}`)

  const rep = JSON.parse(await readFile(report, 'utf8'))
  t.ok(Value.Check(HsmMigrationReportSchema, rep), 'the report matches HsmMigrationReportSchema')
  t.match(rep, { id: 'm1', result: 'succeeded', durationMs: RUN_MS, nodes: [{ name: 'node1', restarts: 2, phases: { A: { verdict: 'ready', restartToVerdictMs: 2500 }, B: { verdict: 'ready' } } }, { name: 'node2' }, { name: 'node3' }] })
  noSecrets(t, c, r.stdout, r.stderr, JSON.stringify(rep))
})

t.test('a migration that fails: the evidence and the way to resume shown, exit 1; --json prints the final migration only', async t => {
  const c = await realCoordinator(t)
  c.migrations.onStart = id => { scriptRun(c.migrations, id, 'failed') }
  const report = join(c.dir, 'report.json')
  const r = await cli(migrateArgs(await adminKeyFile(c), '--report', report), { env: c.env })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stdout, /\[B\] node1 \| FATAL: cannot unseal/)
  t.match(r.stdout, /HSM migration m1 on cluster c1: failed/)
  t.match(r.stdout, /B: reverted, 2 restarts, verdict FAILED \(fatal-line\).*\n.*verdict: minkms logged a fatal line after the restart\n(?:.*\n)?.*fatal: FATAL: cannot unseal.*\n.*rolled back to the local HSM by its agent/)
  t.match(r.stdout, /node1 \(the canary of phase B\) did not start on the external HSM alone/)
  t.match(r.stdout, /once the cause is fixed, keyroll hsm resume m1 continues from phase B/)
  t.match(JSON.parse(await readFile(report, 'utf8')), { result: 'failed', nodes: [{ name: 'node1', restarts: 3, phases: { B: { verdict: 'fatal-line' } } }] })
  t.notOk(c.migrations.calls[0]?.request?.revealApiKey, 'no API key asked for without --api-key-out')

  c.migrations.onStart = id => { scriptRun(c.migrations, id, 'failed') }
  const json = await cli(migrateArgs(await adminKeyFile(c), '--json'), { env: c.env })
  t.equal(json.code, 1)
  const final = JSON.parse(json.stdout) as HsmMigration
  t.match(final, { id: 'm2', state: 'failed', phase: 'B' })
  t.same(final, await c.migrations.get('m2'), 'one JSON document: the final migration')
  noSecrets(t, c, r.stdout, r.stderr, json.stdout, json.stderr)
})

t.test('followed live; a stream that ends early is followed again from the next index; nothing shown twice', async t => {
  const c = await realCoordinator(t)
  const run = cli(migrateArgs(await adminKeyFile(c)), { env: c.env })
  const deadline = Date.now() + 10_000
  while (c.migrations.subscribers('m1') === 0) {
    if (Date.now() > deadline) throw new Error('the CLI never followed the stream')
    await new Promise(resolve => setImmediate(resolve))
  }
  c.migrations.emit('m1', { type: 'phase', phase: 'A', message: 'phase A started' })
  // A lost notification makes the stream read the store, which fails: the stream ends early.
  c.migrations.failEvents = 1
  c.migrations.emit('m1', { type: 'info', phase: 'A', message: 'stored only' }, { notify: false })
  c.migrations.emit('m1', { type: 'journal', phase: 'A', node: 'node1', message: 'minkms: listening' })
  while (c.migrations.subscribers('m1') === 0 || c.migrations.failEvents > 0) {
    if (Date.now() > deadline) throw new Error('the CLI never followed the stream again')
    await new Promise(resolve => setImmediate(resolve))
  }
  c.migrations.setState('m1', 'aborted', 'aborted by bob after node1')
  const r = await run
  t.equal(r.code, 1, 'aborted: exit 1')
  const shown = eventLines(r.stdout)
  t.same(shown.map(l => l.replace(/^\S+ /, '')), [
    '- migration: HSM migration started',
    '[A] - phase: phase A started',
    '[A] - info: stored only',
    '[A] node1 | minkms: listening',
    '- migration: aborted by bob after node1'
  ], 'every event once, in order')
  t.ok(c.logs.some(l => l.includes('event stream ended by an error')), 'the stream did end early')
  t.match(r.stdout, /HSM migration m1 on cluster c1: aborted/)
})

t.test('on a TTY: the per-node block redrawn in place with each phase\'s state', async t => {
  const c = await realCoordinator(t)
  c.migrations.onStart = id => { scriptRun(c.migrations, id, 'succeeded') }
  const r = await cli(migrateArgs(await adminKeyFile(c)), { env: c.env }, { tty: true })
  t.equal(r.code, 0, r.stderr)
  t.ok(r.stdout.includes('\x1b[4F\x1b[0J'), 'the four-line block (header, three nodes) is redrawn')
  t.match(r.stdout, /HSM migration m1 on c1: running, phase B\n {2}node1 {2}A done {6}B done/)
  t.match(r.stdout, /HSM migration m1 on cluster c1: succeeded/)
})

t.test('dry run: the findings; exit 0 when a real run would start, 1 with the problems when not; no key file, nothing started', async t => {
  const c = await realCoordinator(t)
  const keyOut = join(c.dir, 'never.key')
  const ok = await cli(migrateArgs(await adminKeyFile(c), '--dry-run', '--api-key-out', keyOut), { env: c.env })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /dry run of an HSM migration on cluster c1: a real run would start/)
  t.match(ok.stderr, /--api-key-out is ignored in a dry run/)
  await t.rejects(stat(keyOut), { code: 'ENOENT' }, 'no key file')
  t.match(c.migrations.calls[0]?.request, { dryRun: true, revealApiKey: false })

  c.migrations.dryRunAnswer = {
    ok: false,
    problems: ['node2: the config has hsm.vault; add --replace-hsm to replace it'],
    warnings: ['node1: kms1:7373 unreachable; kms0:7373 covers it'],
    provision: { enclave: 'create', identity: 'create', key: 'found' },
    preflight: [{ node: 'node1', ok: false, reachable: 1, trust: { source: 'tls.ca', path: '/etc/minkms/ca.pem' }, servers: [{ server: 'kms0:7373', ok: true, ms: 9, checks: { tls: { status: 'ok', ms: 3 }, auth: { status: 'ok', ms: 2 }, roundTrip: { status: 'ok', ms: 4 } } }, { server: 'kms1:7373', ok: false, ms: 5000, checks: { tls: { status: 'failed', reason: 'connect ECONNREFUSED' }, auth: { status: 'skipped' }, roundTrip: { status: 'skipped' } } }] }],
    plans: { A: { cluster: 'c1', nodes: [{ node: 'node1', plan: { changed: true, files: [{ changed: true, diff: '+hsm:\n+  minio.minkms: …' }] } }] } }
  }
  const refused = await cli(migrateArgs(await adminKeyFile(c), '--dry-run'), { env: c.env })
  t.equal(refused.code, 1)
  t.match(refused.stdout, /a real run would be REFUSED/)
  t.match(refused.stdout, /problem: node2: the config has hsm\.vault/)
  t.match(refused.stdout, /warning: node1: kms1:7373 unreachable/)
  t.match(refused.stdout, /provision: enclave create, identity create, key found/)
  t.match(refused.stdout, /kms0:7373: ok in 9 ms\n.*kms1:7373: tls failed: connect ECONNREFUSED; auth skipped; roundTrip skipped/)
  t.match(refused.stdout, /phase A would change:\n {4}\[node1\]\n {4}\+hsm:/)
  const json = await cli(migrateArgs(await adminKeyFile(c), '--dry-run', '--json'), { env: c.env })
  t.equal(json.code, 1)
  t.match(JSON.parse(json.stdout), { dryRun: { ok: false, problems: [/hsm\.vault/] } })
  t.same(await c.migrations.list(), [], 'nothing started')
})

t.test('the timing flags go as the request\'s strategy; a malformed one is refused with exit 2, nothing sent', async t => {
  const c = await realCoordinator(t)
  const ok = await cli(migrateArgs(await adminKeyFile(c), '--dry-run', '--min-healthy-time', '0s', '--healthy-deadline', '2m'), { env: c.env })
  t.equal(ok.code, 0, ok.stderr)
  t.same(c.migrations.calls[0]?.request?.strategy, { healthyDeadline: '2m', minHealthyTime: '0s' })
  const none = await cli(migrateArgs(await adminKeyFile(c), '--dry-run'), { env: c.env })
  t.equal(none.code, 0, none.stderr)
  t.equal(c.migrations.calls[1]?.request?.strategy, undefined, 'no flag: no strategy, the cluster\'s config decides')
  const bad = await cli(migrateArgs(await adminKeyFile(c), '--min-healthy-time', '1.5s'), { env: c.env })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--min-healthy-time must be a duration such as 30s, 2m or 1m30s, not "1\.5s"/)
  t.equal(c.migrations.calls.length, 2, 'nothing sent')
})

t.test('--phase-b all-at-once --allow-write-outage go in the request; a mode that is not one is refused with exit 2, nothing sent', async t => {
  const c = await realCoordinator(t)
  const ok = await cli(migrateArgs(await adminKeyFile(c), '--dry-run', '--phase-b', 'all-at-once', '--allow-write-outage'), { env: c.env })
  t.equal(ok.code, 0, ok.stderr)
  t.match(c.migrations.calls[0]?.request, { phaseB: 'all-at-once', allowWriteOutage: true })
  const none = await cli(migrateArgs(await adminKeyFile(c), '--dry-run'), { env: c.env })
  t.equal(none.code, 0, none.stderr)
  t.match(c.migrations.calls[1]?.request, { phaseB: 'rolling', allowWriteOutage: false }, 'no flag: rolling, no outage accepted')
  c.migrations.onStart = id => {
    c.migrations.update(id, { writeOutage: { ms: 2340, from: Date.now(), to: Date.now() + 2340, rolledBack: false } })
    scriptRun(c.migrations, id, 'succeeded')
  }
  const report = join(c.dir, 'report.json')
  const run = await cli(migrateArgs(await adminKeyFile(c), '--phase-b', 'all-at-once', '--allow-write-outage', '--report', report), { env: c.env })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /phase B removes the local HSM key \(all nodes at once, write outage accepted\)/, 'the mode shown')
  t.match(run.stdout, /write outage: 2340 ms \(first commit sent .* → writes accepted on every node\)/, 'the window printed')
  t.match(JSON.parse(await readFile(report, 'utf8')), { phaseB: 'all-at-once', writeOutageMs: 2340 }, 'and in the report')
  const bad = await cli(migrateArgs(await adminKeyFile(c), '--phase-b', 'sideways'), { env: c.env })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--phase-b must be rolling or all-at-once, not "sideways"/)
  t.equal(c.migrations.calls.length, 3, 'nothing sent')
})

t.test('the admin key file: missing, empty, world-readable or two lines refused with exit 2 saying what to fix; nothing sent', async t => {
  const c = await realCoordinator(t)
  const cases: Array<[string, string, RegExp]> = [
    ['missing', join(c.dir, 'nope.key'), /CRD_CLI_FILE_UNREADABLE: cannot read --admin-key-file .*nope\.key: no such file; write the external Key Manager's root\/SysAdmin API key into it/],
    ['empty', await adminKeyFile(c, '\n'), /CRD_CLI_USAGE: --admin-key-file .* is empty/],
    ['world-readable', await adminKeyFile(c, ADMIN_KEY, 0o644), /CRD_CLI_USAGE: --admin-key-file .* can be read or changed by every user \(mode 0644\): chmod 600 /],
    ['two lines', await adminKeyFile(c, `${ADMIN_KEY}\nsecond\n`), /CRD_CLI_USAGE: --admin-key-file .* must hold the API key alone, on one line/],
    ['a directory', c.dir, /--admin-key-file .* is not a regular file/]
  ]
  for (const [what, file, message] of cases) {
    const r = await cli(migrateArgs(file), { env: c.env })
    t.equal(r.code, 2, `${what}: exit 2`)
    t.match(r.stderr, message, `${what}: says what to fix`)
    t.notMatch(r.stderr + r.stdout, ADMIN_KEY, `${what}: the key is not quoted`)
  }
  const existing = join(c.dir, 'exists.key')
  await writeFile(existing, 'keep me\n')
  const taken = await cli(migrateArgs(await adminKeyFile(c), '--api-key-out', existing), { env: c.env })
  t.equal(taken.code, 2)
  t.match(taken.stderr, /--api-key-out .*exists\.key exists; choose a new file/)
  t.equal(await readFile(existing, 'utf8'), 'keep me\n', 'an existing file is never written over')
  const bad = await cli(['hsm', 'migrate', '--cluster', 'c1', '--external', 'kms0:7373,,kms1', '--enclave', 'e', '--key', 'k', '--admin-key-file', await adminKeyFile(c)], { env: c.env })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--external must list host:port/)
  const both = await cli(migrateArgs(await adminKeyFile(c), '--keep-local-hsm', '--remove-local-sealed-copy'), { env: c.env })
  t.equal(both.code, 2)
  t.match(both.stderr, /--remove-local-sealed-copy runs after phase B, which --keep-local-hsm skips/)
  const missingFlag = await cli(['hsm', 'migrate', '--cluster', 'c1'], { env: c.env })
  t.equal(missingFlag.code, 2, 'a required flag missing: exit 2')
  t.same(c.migrations.calls, [], 'nothing reached the coordinator')
})

t.test('the coordinator refuses: 409 busy cluster, 404 unknown cluster, 403 viewer, 400 bad name: exit 2 with its code; the reserved key file removed', async t => {
  const c = await realCoordinator(t)
  const first = await cli(migrateArgs(await adminKeyFile(c), '--no-watch'), { env: c.env })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /started HSM migration m1 on cluster c1 \(3 nodes; external kms0:7373, kms1:7373\)\nfollow it with: keyroll hsm watch m1/)
  const keyOut = join(c.dir, 'second.key')
  const busy = await cli(migrateArgs(await adminKeyFile(c), '--api-key-out', keyOut), { env: c.env })
  t.equal(busy.code, 2)
  t.match(busy.stderr, /error: CRD_ROLLOUT_CONFLICT: cluster c1 already has HSM migration m1/)
  await t.rejects(stat(keyOut), { code: 'ENOENT' }, 'the reserved key file is gone')
  const unknown = await cli(['hsm', 'migrate', '--cluster', 'nope', '--external', 'kms0', '--enclave', 'e', '--key', 'k', '--admin-key-file', await adminKeyFile(c)], { env: c.env })
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /CRD_NOT_FOUND: no cluster nope/)
  const viewer = await cli(migrateArgs(await adminKeyFile(c)), { env: c.viewerEnv })
  t.equal(viewer.code, 2)
  t.match(viewer.stderr, /CRD_FORBIDDEN: .*keyroll token create --role operator/)
  const badName = await cli(['hsm', 'migrate', '--cluster', 'c2', '--external', 'kms0', '--enclave', '../e', '--key', 'k', '--admin-key-file', await adminKeyFile(c)], { env: c.env })
  t.equal(badName.code, 2)
  t.match(badName.stderr, /SHR_VALIDATION: .*\n {2}body\.enclave: /, 'the field named')
  noSecrets(t, c, first.stdout, busy.stderr, unknown.stderr, viewer.stderr, badName.stderr)
})

t.test('status, list, pause, resume, abort, watch: human and --json; unknown id exit 2', async t => {
  const c = await realCoordinator(t)
  t.equal((await cli(migrateArgs(await adminKeyFile(c), '--no-watch', '--keep-local-hsm'), { env: c.env })).code, 0)
  const json = async (...argv: string[]): Promise<HsmMigration> => {
    const r = await cli([...argv, '--json'], { env: c.env })
    t.equal(r.code, 0, `${argv.join(' ')}: exit 0 (${r.stderr})`)
    return JSON.parse(r.stdout)
  }
  t.match(await json('hsm', 'status', 'm1'), { id: 'm1', state: 'running', keepLocalHsm: true })
  t.match(await json('hsm', 'pause', 'm1'), { state: 'paused' })
  const status = await cli(['hsm', 'status', 'm1'], { env: c.env })
  t.match(status.stdout, /HSM migration m1 on cluster c1: paused, phase provision \(running for /)
  t.match(status.stdout, /keep the local HSM \(phase A only\)/)
  t.match(status.stdout, /to go on: keyroll hsm resume m1/)
  t.match(await json('hsm', 'resume', 'm1'), { state: 'running' })
  t.same(c.migrations.resumeOptions.at(-1), {}, 'a plain resume sends no mode')
  const badMode = await cli(['hsm', 'resume', 'm1', '--phase-b', 'sideways'], { env: c.env })
  t.equal(badMode.code, 2)
  t.match(badMode.stderr, /--phase-b must be rolling or all-at-once, not "sideways"/)
  t.equal(c.migrations.resumeOptions.length, 1, 'refused before any request')
  c.migrations.setState('m1', 'failed')
  t.match(await json('hsm', 'resume', 'm1', '--phase-b', 'all-at-once', '--allow-write-outage'), { state: 'running' })
  t.same(c.migrations.resumeOptions.at(-1), { phaseB: 'all-at-once', allowWriteOutage: true }, 'resume --phase-b all-at-once --allow-write-outage sends the mode')
  const list = await cli(['hsm', 'list', '--cluster', 'c1'], { env: c.env })
  t.match(list.stdout, /ID +CLUSTER +STATE +PHASE +EXTERNAL +CREATED +BY\nm1 +c1 +running +provision +kms0:7373,kms1:7373 .* bob/)
  t.match(c.migrations.calls.at(-1), { method: 'list', cluster: 'c1' })
  t.same((await cli(['hsm', 'list', '--json', '--cluster', 'c2'], { env: c.env })).stdout, '[]\n')
  const aborted = await cli(['hsm', 'abort', 'm1'], { env: c.env })
  t.equal(aborted.code, 0)
  t.match(aborted.stdout, /HSM migration m1 on cluster c1: aborted/)
  const again = await cli(['hsm', 'abort', 'm1'], { env: c.env })
  t.equal(again.code, 2)
  t.match(again.stderr, /CRD_ROLLOUT_STATE: HSM migration m1 is aborted; cannot abort it/)
  const watch = await cli(['hsm', 'watch', 'm1', '--report', join(c.dir, 'r.json')], { env: c.env })
  t.equal(watch.code, 1, 'watching an aborted migration: exit 1')
  t.match(JSON.parse(await readFile(join(c.dir, 'r.json'), 'utf8')), { id: 'm1', result: 'failed' })
  for (const argv of [['hsm', 'status', 'zz'], ['hsm', 'watch', 'zz'], ['hsm', 'pause', 'zz']]) {
    const r = await cli(argv, { env: c.env })
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`)
    t.match(r.stderr, /CRD_NOT_FOUND: no HSM migration zz/)
  }
})
