// SIGKILL of the agent aimed at each phase of an apply (lock, plan, backup, write, restart,
// verify, commit), against real files (no systemd): never a torn or mixed file; after a restart
// the node is on the old or the new revision, consistently, and the agent says which, whether it
// recovers in one go or as the unit does it (ExecStartPre's files-only recovery, then the
// daemon's); no temporary file of an interrupted write survives the recovery, and no file outside
// the managed ones holds the API key in clear.
// Aiming: the child prints every apply event; the first apply of each child measures how long
// each phase lasts (from the arrival of its events here), and a later apply is killed at the
// event that starts the aimed phase plus a delay drawn from that phase's measured duration.
import t from 'tap'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { processRunner } from '../../shared/process-runner.js'
import { crashApplier, SECRET } from '../helpers/crash-child.js'
import { repoRoot } from '../lab/repo.js'

const TRIALS = Number(process.env.KEYROLL_CRASH_TRIALS ?? 42)
// ~1-4 s a trial (two fresh node processes and two applies each): more than tap's default 30 s per file.
t.setTimeout(300_000)
// The compiled child starts in ~0.3 s, the TypeScript one (tsx) in ~3 s: use the build when it is
// newer than the source (npm test builds first). Paths from the repository root: this file also
// runs compiled, from dist/test/integration/.
const source = join(repoRoot(), 'test/helpers/crash-child.ts')
const built = join(repoRoot(), 'dist/test/helpers/crash-child.js')
const childArgs = (await stat(built).then((b) => b.mtimeMs, () => 0)) > (await stat(source)).mtimeMs ? [built] : ['--import', 'tsx', source]

const CONFIG = '# lab config: comments survive\nversion: v1\ntls:\n  certs:\n    - key: /k\n      cert: /c\n  ca: /ca\n'
const ENV = '# env\nMINIO_KMS_VOLUME=/mnt/minio-kms\n'

type Phase = 'lock' | 'plan' | 'backup' | 'write' | 'restart' | 'verify' | 'commit'
const PHASES: Phase[] = ['lock', 'plan', 'backup', 'write', 'restart', 'verify', 'commit']
/** The events that open and close each phase (`step:status`). */
const WINDOW: Record<Phase, [string, string]> = {
  lock: ['lock:done', 'plan:started'],
  plan: ['plan:started', 'backup:started'],
  backup: ['backup:started', 'backup:done'],
  write: ['write:started', 'write:done'],
  restart: ['restart:started', 'restart:done'],
  verify: ['restart:done', 'verify:done'],
  commit: ['commit:started', 'commit:done']
}
/** The phase the apply was in after `event` (the last one it printed). */
const AFTER: Record<string, Phase> = {
  'lock:done': 'lock',
  'plan:started': 'plan',
  'plan:done': 'plan',
  'validate:done': 'plan',
  'backup:started': 'backup',
  'backup:done': 'write',
  'write:started': 'write',
  'write:done': 'restart',
  'restart:started': 'restart',
  'restart:done': 'verify',
  'verify:done': 'commit',
  'commit:started': 'commit',
  'commit:done': 'lock'
}

/** The revision marker of each file (0 = never applied). */
function markers (config: string, env: string): { config: number, env: number } {
  const c = /enclave: rev-(\d+)/.exec(config)
  const e = /^KEYROLL_TEST_REVISION=(\d+)$/m.exec(env)
  return { config: c === null ? 0 : Number(c[1]), env: e === null ? 0 : Number(e[1]) }
}

/** Every file below `dir`. */
async function filesBelow (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (e) => e.isDirectory() ? await filesBelow(join(dir, e.name)) : [join(dir, e.name)]))
  return nested.flat()
}

t.test(`${TRIALS} SIGKILLs aimed at every phase of an apply`, { timeout: 300_000 }, async (t) => {
  const dir = t.testdir()
  await mkdir(join(dir, 'state'))
  await writeFile(join(dir, 'config.yaml'), CONFIG)
  await writeFile(join(dir, 'minkms.env'), ENV)
  const aimed = new Map<Phase, number>()
  const landed = new Map<Phase, number>()
  let leftToDaemon = 0
  let tempsLeftByKills = 0
  for (let i = 0; i < TRIALS; i++) {
    const phase = PHASES[i % PHASES.length]!
    const [open, close] = WINDOW[phase]
    const p = processRunner.spawn(process.execPath, [...childArgs, dir], { stdout: 'pipe', stderr: 'pipe' })
    let stderr = ''
    p.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    // Apply 1 of this child measures the phase; apply 2 is killed in it.
    let first: number | undefined
    const seenAt = new Map<string, number>()
    let last = ''
    let armed = false
    const lines = createInterface({ input: p.stdout! })
    lines.on('line', (line) => {
      const e = JSON.parse(line) as { r: number, step: string, status: string }
      const key = `${e.step}:${e.status}`
      last = key
      first ??= e.r
      if (e.r === first) { seenAt.set(key, performance.now()); return }
      if (armed || key !== open) return
      armed = true
      const ms = Math.max(0, (seenAt.get(close) ?? 0) - (seenAt.get(open) ?? 0))
      const delay = Math.random() * ms
      if (delay < 1) p.kill('SIGKILL')
      else setTimeout(() => { p.kill('SIGKILL') }, delay)
    })
    const exit = await p.exited
    if (exit.signal !== 'SIGKILL') { t.fail(`child ended by itself: ${JSON.stringify(exit)} ${stderr}`); break }
    aimed.set(phase, (aimed.get(phase) ?? 0) + 1)
    const at = AFTER[last]
    if (at !== undefined) landed.set(at, (landed.get(at) ?? 0) + 1)
    tempsLeftByKills += (await filesBelow(dir)).filter((f) => f.endsWith('.tmp')).length

    // Restart: the agent recovers, then says which revision the node is on. Every other trial
    // recovers as the unit does: ExecStartPre first (files only, no restart: minkms starts on
    // the files right after it, so they must be consistent already), then the daemon.
    const { applier, state } = await crashApplier(dir)
    const asUnit = i % 2 === 1
    await applier.recover({ deferRestart: asUnit })
    if (asUnit) {
      const now = markers(await readFile(join(dir, 'config.yaml'), 'utf8'), await readFile(join(dir, 'minkms.env'), 'utf8'))
      const on = (await state.readApplied())?.revision ?? 0
      if (now.config !== on || now.env !== on) {
        t.fail(`trial ${i} (aimed at ${phase}, killed after ${last}): after ExecStartPre recovery applied ${on} but config ${now.config}, env ${now.env}`)
        break
      }
      if ((await state.readPending())?.phase === 'restored') leftToDaemon++
      await applier.recover()
    }
    const applied = (await state.readApplied())?.revision ?? 0
    const config = await readFile(join(dir, 'config.yaml'), 'utf8')
    const env = await readFile(join(dir, 'minkms.env'), 'utf8')
    const m = markers(config, env)
    if (m.config !== applied || m.env !== applied) {
      t.fail(`trial ${i} (aimed at ${phase}, killed after ${last}): applied ${applied} but config ${m.config}, env ${m.env}`)
      break
    }
    if (!config.startsWith(CONFIG.split('\n')[0]!) || !config.includes('version: v1') || (applied > 0 && !config.includes('auth:'))) {
      t.fail(`trial ${i}: config is not a whole file:\n${config}`)
      break
    }
    const temps = (await filesBelow(dir)).filter((f) => f.endsWith('.tmp'))
    if (temps.length > 0) { t.fail(`trial ${i} (aimed at ${phase}, killed after ${last}): temporary files left after recovery: ${temps.join(', ')}`); break }
    t.equal(await state.readPending(), undefined, `trial ${i} (aimed at ${phase}, killed after ${last}): nothing pending, no temporary file; on revision ${applied}`)
  }
  const show = (m: Map<Phase, number>): string => PHASES.map((p) => `${p} ${m.get(p) ?? 0}`).join(', ')
  t.comment(`aimed at: ${show(aimed)}`)
  t.comment(`landed in (last event before the kill): ${show(landed)}`)
  t.comment(`temporary files left by the kills (all removed by recovery): ${tempsLeftByKills}; restarts left to the daemon by ExecStartPre recovery: ${leftToDaemon}`)
  t.ok(PHASES.every((p) => (aimed.get(p) ?? 0) >= Math.floor(TRIALS / PHASES.length)), 'every phase was aimed at')
  t.ok(landed.size >= 5, 'kills landed in several different phases')

  // Only the managed files may hold the API key in clear (the state keeps it sealed).
  const others = (await filesBelow(dir)).filter((f) => !f.endsWith('config.yaml') && !f.endsWith('minkms.env'))
  t.ok(others.some((f) => f.includes(`${join('state', 'backups')}`)), 'the search covers the backups')
  const holding: string[] = []
  for (const f of others) if ((await readFile(f, 'utf8')).includes(SECRET.slice(-20))) holding.push(f)
  t.same(holding, [], `no API key in any of ${others.length} files outside the managed files`)
})
