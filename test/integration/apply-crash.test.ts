// SIGKILL of the agent at random points of an apply, against real files (no systemd): never a
// torn or mixed file; after a restart the node is on the old or the new revision, consistently,
// and the agent says which, whether it recovers in one go or as the unit does it (ExecStartPre's
// files-only recovery, then the daemon's).
import t from 'tap'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { processRunner } from '../../shared/process-runner.js'
import { crashApplier } from '../helpers/crash-child.js'

const TRIALS = Number(process.env.KEYROLL_CRASH_TRIALS ?? 50)
// ~1 s a trial (a fresh node process each time): more than tap's default 30 s per file.
t.setTimeout(300_000)
// The compiled child starts in ~0.3 s, the TypeScript one (tsx) in ~3 s: use the build when it is
// newer than the source (npm test builds first).
const source = join(import.meta.dirname, '../helpers/crash-child.ts')
const built = join(import.meta.dirname, '../../dist/test/helpers/crash-child.js')
const childArgs = (await stat(built).then((b) => b.mtimeMs, () => 0)) > (await stat(source)).mtimeMs ? [built] : ['--import', 'tsx', source]

const CONFIG = '# lab config: comments survive\nversion: v1\ntls:\n  certs:\n    - key: /k\n      cert: /c\n  ca: /ca\n'
const ENV = '# env\nMINIO_KMS_VOLUME=/mnt/minio-kms\n'

/** The revision marker of each file (0 = never applied). */
function markers (config: string, env: string): { config: number, env: number } {
  const c = /enclave: rev-(\d+)/.exec(config)
  const e = /^KEYROLL_TEST_REVISION=(\d+)$/m.exec(env)
  return { config: c === null ? 0 : Number(c[1]), env: e === null ? 0 : Number(e[1]) }
}

t.test(`${TRIALS} SIGKILLs at random points of an apply`, { timeout: 300_000 }, async (t) => {
  const dir = t.testdir()
  await mkdir(join(dir, 'state'))
  await writeFile(join(dir, 'config.yaml'), CONFIG)
  await writeFile(join(dir, 'minkms.env'), ENV)
  const seen = new Set<string>()
  let leftToDaemon = 0
  for (let i = 0; i < TRIALS; i++) {
    // Kill at the k-th event (random), i.e. at a random step of a random apply.
    const k = 1 + Math.floor(Math.random() * 26)
    const p = processRunner.spawn(process.execPath, [...childArgs, dir], { stdout: 'pipe', stderr: 'pipe' })
    let n = 0
    let stderr = ''
    p.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const lines = createInterface({ input: p.stdout! })
    lines.on('line', (line) => {
      if (++n === k) { p.kill('SIGKILL'); seen.add((JSON.parse(line) as { step: string }).step) }
    })
    const exit = await p.exited
    if (exit.signal !== 'SIGKILL') { t.fail(`child ended by itself: ${JSON.stringify(exit)} ${stderr}`); break }

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
        t.fail(`trial ${i} (kill at event ${k}): after ExecStartPre recovery applied ${on} but config ${now.config}, env ${now.env}`)
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
      t.fail(`trial ${i} (kill at event ${k}): applied ${applied} but config ${m.config}, env ${m.env}`)
      break
    }
    if (!config.startsWith(CONFIG.split('\n')[0]!) || !config.includes('version: v1') || (applied > 0 && !config.includes('auth:'))) {
      t.fail(`trial ${i}: config is not a whole file:\n${config}`)
      break
    }
    t.equal(await state.readPending(), undefined, `trial ${i}: nothing pending; on revision ${applied}`)
  }
  const temps = (await readdir(dir)).filter((n) => n.endsWith('.tmp'))
  t.comment(`kill points seen: ${[...seen].sort().join(', ')}; leftover temp files: ${temps.length}; restarts left to the daemon by ExecStartPre recovery: ${leftToDaemon}`)
  t.ok(seen.size >= 4, 'kills landed in several different steps')
})
