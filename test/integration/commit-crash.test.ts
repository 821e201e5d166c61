// SIGKILL of the agent at every point of the commit sequence, against real files (no systemd): the
// child (test/helpers/commit-crash-child.ts) kills itself just before or just after each rename or
// removal of a state record once the commit has started. After each kill the agent recovers (as
// the unit does it: ExecStartPre's files-only recovery, then the daemon's; or the daemon's alone)
// and converges; the node must then be on the revision applied.json names, old or new, with files
// to match, and nothing a revision that was never committed left (its stored change, its desired
// record, its backup set) may be restored, reported, or converged to later.
import t, { type Test } from 'tap'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processRunner } from '../../shared/process-runner.js'
import { crashApplier } from '../helpers/crash-child.js'
import type { CommitCrashOrder, CommitKill } from '../helpers/commit-crash-child.js'
import { repoRoot } from '../lab/repo.js'

t.setTimeout(300_000)
// The build when it is newer than the source (npm test builds first), else tsx.
const source = join(repoRoot(), 'test/helpers/commit-crash-child.ts')
const built = join(repoRoot(), 'dist/test/helpers/commit-crash-child.js')
const childArgs = (await stat(built).then((b) => b.mtimeMs, () => 0)) > (await stat(source)).mtimeMs ? [built] : ['--import', 'tsx', source]

const CONFIG = '# lab config: comments survive\nversion: v1\ntls:\n  certs:\n    - key: /k\n      cert: /c\n  ca: /ca\n'
const ENV = '# env\nMINIO_KMS_VOLUME=/mnt/minio-kms\n'

/** Runs the child; `killed`: it died of SIGKILL (the kill point was reached). */
async function child (dir: string, order: CommitCrashOrder): Promise<{ killed: boolean, out: string }> {
  // Without tap's NODE_OPTIONS (its loaders triple a child's start); tsx, when used, is in childArgs.
  const { NODE_OPTIONS: _loaders, ...env } = process.env
  const p = processRunner.spawn(process.execPath, [...childArgs, dir, JSON.stringify(order)], { stdout: 'pipe', stderr: 'pipe', env })
  let out = ''
  let err = ''
  p.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  p.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exit = await p.exited
  if (exit.signal !== 'SIGKILL' && exit.code !== 0) throw new Error(`child failed: ${JSON.stringify(exit)} ${err}`)
  return { killed: exit.signal === 'SIGKILL', out }
}

/** A fresh directory, removed at the end of `t`. */
async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyroll-commit-crash-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A node on revision 2 (revision 1 before it), as two ordinary applies leave it; built once, copied. */
const template = await tempDir(t)
await mkdir(join(template, 'state'))
await writeFile(join(template, 'config.yaml'), CONFIG)
await writeFile(join(template, 'minkms.env'), ENV)
for (const revision of [1, 2]) if ((await child(template, { action: 'apply', revision })).killed) throw new Error('killed without a kill point')
async function node (t: Test): Promise<string> {
  const dir = await tempDir(t)
  await cp(template, dir, { recursive: true })
  return dir
}

/** The revision marker of each file (0 = never applied). */
async function markers (dir: string): Promise<{ config: number, env: number }> {
  const c = /enclave: rev-(\d+)/.exec(await readFile(join(dir, 'config.yaml'), 'utf8'))
  const e = /^KEYROLL_TEST_REVISION=(\d+)$/m.exec(await readFile(join(dir, 'minkms.env'), 'utf8'))
  return { config: c === null ? 0 : Number(c[1]), env: e === null ? 0 : Number(e[1]) }
}

async function filesBelow (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (e) => e.isDirectory() ? await filesBelow(join(dir, e.name)) : [join(dir, e.name)]))
  return nested.flat()
}

interface Recovered { applied: number, warnings: string[] }

/**
 * Recovers as the unit does (`asUnit`: ExecStartPre, then the daemon) or as the daemon alone, then
 * converges; checks that the node is consistently on the revision applied.json names, one of
 * `allowed`, and that nothing of an uncommitted revision is left.
 */
async function recoverAndCheck (t: Test, dir: string, label: string, allowed: number[], asUnit: boolean): Promise<Recovered> {
  const warnings: string[] = []
  const log = { info: () => {}, warn: (_o: object, msg: string) => { warnings.push(msg) }, error: () => {} }
  const { applier, state } = await crashApplier(dir, log)
  if (asUnit) await applier.recover({ deferRestart: true })
  await applier.recover()
  const applied = await state.readApplied()
  const on = applied?.revision ?? 0
  t.ok(allowed.includes(on), `${label}: applied.json on revision ${on}, one of ${allowed.join(', ')}`)
  t.same(await markers(dir), { config: on, env: on }, `${label}: both files on revision ${on}`)
  t.equal((await state.readDesired())?.record.revision, on, `${label}: desired follows applied.json`)
  const converged = await applier.converge()
  t.equal(converged.state, 'in-sync', `${label}: boot convergence finds the node in sync (it re-applies nothing)`)
  t.equal((await state.readApplied())?.revision, on, `${label}: still on revision ${on} after boot convergence`)
  t.equal(await state.readPending(), undefined, `${label}: nothing pending`)
  t.same((await filesBelow(dir)).filter((f) => f.endsWith('.tmp')), [], `${label}: no temporary file`)
  const committed = [on, ...(applied?.previous ?? []).map((p) => p.revision)]
  const changes = (await readdir(join(dir, 'state', 'changes'))).map((n) => Number(n.replace(/\.sealed$/, '')))
  t.same(changes.filter((r) => !committed.includes(r)), [], `${label}: stored changes of committed revisions only (${committed.join(', ')})`)
  return { applied: on, warnings }
}

// Every rename and removal of a state record once the commit has started, in the order of either
// commit sequence: the stored change, desired.json, applied.json, the pruning, pending.json's
// removal, last.json.
const APPLY_POINTS: CommitKill[] = ['^3\\.sealed$', '^desired\\.json$', '^applied\\.json$', '^pending\\.json$', '^last\\.json$']
  .flatMap((file) => (['before', 'after'] as const).map((when) => ({ file, when })))
const ROLLBACK_POINTS: CommitKill[] = ['^desired\\.json$', '^applied\\.json$', '^pending\\.json$', '^last\\.json$']
  .flatMap((file) => (['before', 'after'] as const).map((when) => ({ file, when })))

t.test('an apply killed at each point of its commit: on revision 2 or 3, never anything else', async (t) => {
  let i = 0
  for (const kill of APPLY_POINTS) {
    const dir = await node(t)
    const label = `apply of revision 3 killed ${kill.when} ${kill.when === 'before' ? 'writing' : 'the rename of'} ${kill.file}`
    t.ok((await child(dir, { action: 'apply', revision: 3, kill })).killed, `${label}: killed there`)
    const r = await recoverAndCheck(t, dir, label, [2, 3], i++ % 2 === 0)
    if (r.applied === 2) {
      t.notOk((await readdir(join(dir, 'state', 'backups'))).includes('3'), `${label}: the backup set of the uncommitted revision 3 is gone`)
      t.ok(r.warnings.some((w) => /^removed \d+ records? of uncommitted revisions \(.*backups\/3.*\); the node stays on committed revision 2$/.test(w)), `${label}: and recovery said so`)
    }
  }
})

t.test('a rollback killed at each point of its commit: on revision 2 or 1, never anything else', async (t) => {
  let i = 0
  for (const kill of ROLLBACK_POINTS) {
    const dir = await node(t)
    const label = `rollback from revision 2 killed ${kill.when} ${kill.file}`
    t.ok((await child(dir, { action: 'rollback', kill })).killed, `${label}: killed there`)
    const r = await recoverAndCheck(t, dir, label, [1, 2], i++ % 2 === 0)
    if (r.applied === 2) {
      t.notOk((await readdir(join(dir, 'state', 'backups'))).includes('rollback-2'), `${label}: the backup set of the uncommitted rollback is gone`)
      t.ok(r.warnings.some((w) => /backups\/rollback-2/.test(w)), `${label}: and recovery said so`)
    }
  }
})

// The lab's sequence: revision 3's commit is killed after its desired record was written but
// before applied.json; recovery puts revision 2 back. The daemon that starts next must not
// converge to revision 3 (the client was told nothing was committed), so a kill aimed at the next
// commit of applied.json never finds one, and a recovery after it is still on revision 2.
t.test('a killed commit leaves nothing a later start takes for committed (the lab sequence)', async (t) => {
  const dir = await node(t)
  t.ok((await child(dir, { action: 'apply', revision: 3, kill: { file: '^desired\\.json$', when: 'after' } })).killed, 'revision 3 killed after desired.json was written')
  const { applier, state } = await crashApplier(dir)
  await applier.recover({ deferRestart: true })
  const on = (await state.readApplied())?.revision
  t.ok(on === 2 || on === 3, `ExecStartPre recovery: on revision ${on}`)
  t.same(await markers(dir), { config: on, env: on }, 'files match')
  const daemon = await child(dir, { action: 'daemon', kill: { file: '^applied\\.json$', when: 'after' } })
  t.notOk(daemon.killed, 'the daemon committed nothing at start (no applied.json written)')
  t.match(daemon.out, /"converged":"in-sync"/, 'boot convergence found the node in sync')
  await recoverAndCheck(t, dir, 'after the daemon', [on!], false)
})
