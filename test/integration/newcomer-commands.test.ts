// What a newcomer runs first, in a fresh copy of the checkout (tracked files only): `npm ci`
// (from the local npm cache when it can) builds the tree, `npx keyroll-agent --help` works, and
// `npx tap <dir>` on a subset prints no coverage "errors". The slowest test of the tier (an
// install and a build, a few minutes on a busy machine), and the only one that proves the install.
//
// better-sqlite3 is the one native addon. Its install script tries a prebuilt binary
// (prebuild-install) before compiling from source; none can be downloaded on the project's
// machine, so a plain copy compiled it again (about 2 of this test's 2.5 minutes). The copy now
// gets the addon this checkout's own `npm ci` compiled, packed as a local prebuild
// (better-sqlite3's `local_prebuilds` setting): the newcomer's install path stays the real one
// (lockfile, install scripts, prebuild-install, which loads the addon before accepting it, then
// `prepare`), only the compiler is not run twice. Compiling from source is what the run's own
// `npm ci` proves. A prebuild that does not fit (another version, Node ABI, platform or libc)
// is not picked up, and the copy compiles as before: slower, never wrong.
import t from 'tap'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { processRunner } from '../../shared/process-runner.js'
import { repoRoot } from '../lab/repo.js'

const repo = repoRoot()
t.setTimeout(900_000)

/**
 * Packs this checkout's compiled better-sqlite3 addon into `dir` under the name prebuild-install
 * looks for (`<name>-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`, glibc), and returns the
 * environment that points the copy's install at it (none when this checkout has no compiled
 * addon: the copy compiles). prebuild-install reads that variable from
 * its environment; npm passes it through and only warns that it is no npm setting of its own.
 */
async function hostPrebuild (dir: string): Promise<NodeJS.ProcessEnv> {
  const pkg = join(repo, 'node_modules', 'better-sqlite3')
  if (!existsSync(join(pkg, 'build/Release/better_sqlite3.node'))) return {}
  const { version } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string }
  const tarball = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  await processRunner.run('tar', ['-czf', join(dir, tarball), '-C', pkg, 'build/Release/better_sqlite3.node'], { timeoutMs: 60_000 })
  return { npm_config_better_sqlite3_local_prebuilds: dir }
}

/**
 * The environment of a shell outside any tap run. tap's processinfo still adds its own variables
 * to every child's environment; the one that turns coverage off
 * (test/helpers/coverage-own-process-only.mjs) keeps npm, npx and the inner tap run out of this
 * run's coverage report.
 */
function cleanEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP|NODE_OPTIONS|_TAPJS|NODE_V8_COVERAGE)/.test(k)))
}

/**
 * npx links a checkout's own bin through an entry in its cache, keyed by the checkout's path; an
 * entry left by an earlier run of this test (same path) would keep that run's link. A newcomer's
 * fresh clone has none: remove ours. An npx killed mid-way (a run that timed out) leaves the
 * entry with its link to the checkout but no package.json, and npx then fails on it: the link
 * names it too.
 */
async function forgetNpxLinks (dir: string, name: string): Promise<void> {
  const npx = join(process.env.npm_config_cache ?? join(homedir(), '.npm'), '_npx')
  for (const entry of await readdir(npx).catch(() => [])) {
    const pkg = await readFile(join(npx, entry, 'package.json'), 'utf8').catch(() => '')
    const link = await readlink(join(npx, entry, 'node_modules', name)).catch(() => '')
    if (pkg.includes(JSON.stringify(dir)) || (link !== '' && resolve(join(npx, entry, 'node_modules'), link) === dir)) {
      await rm(join(npx, entry), { recursive: true, force: true })
    }
  }
}

t.test('a fresh checkout after its install step', async (t) => {
  const root = t.testdir({ checkout: {}, prebuilds: {} })
  const dir = join(root, 'checkout')
  const files = (await processRunner.run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, timeoutMs: 30_000 })).stdout.split('\0').filter((f) => f !== '' && existsSync(join(repo, f)))
  for (const f of files) {
    await mkdir(dirname(join(dir, f)), { recursive: true })
    await cp(join(repo, f), join(dir, f))
  }
  const env = cleanEnv()
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string, bin?: Record<string, string>, scripts?: Record<string, string> }
  t.equal(pkg.bin?.['keyroll-agent'], 'agent/bin/keyroll-agent.js', 'package.json names the keyroll-agent command')
  t.ok(pkg.scripts?.prepare, 'npm ci builds (prepare)')

  const installEnv = { ...env, ...await hostPrebuild(join(root, 'prebuilds')) }
  await processRunner.run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env: installEnv, timeoutMs: 600_000 })
  t.ok(existsSync(join(dir, 'dist/agent/main.js')), 'npm ci built the tree')
  const compiled = existsSync(join(dir, 'node_modules/better-sqlite3/build/Release/obj.target'))
  t.comment(compiled ? 'better-sqlite3 was compiled from source (the local prebuild did not fit)' : 'better-sqlite3 came from the local prebuild')
  await forgetNpxLinks(dir, pkg.name)
  const help = await processRunner.run('npx', ['keyroll-agent', '--help'], { cwd: dir, env, timeoutMs: 180_000 })
  t.match(help.stdout, /^Usage: keyroll-agent \[options\] \[command\]$/m)
  t.match(help.stdout, /^ {2}plan \[options\]/m)
  const bad = await processRunner.run('npx', ['keyroll-agent', 'plan'], { cwd: dir, env, timeoutMs: 60_000, okCodes: [2] })
  t.match(bad.stderr, /run keyroll-agent --help for usage/, 'the error names the command that exists')

  const tap = await processRunner.run('npx', ['tap', 'test/unit/shared/fs/'], { cwd: dir, env, timeoutMs: 120_000 })
  t.notMatch(tap.stdout + tap.stderr, /ERROR/, 'no coverage "errors" on a subset')
  t.match(tap.stdout, /# \{ total: \d+, pass: \d+ \}/, 'the subset ran and passed')
})
