// The apply engine on config and env files shaped the way operators really write them
// (test/fixtures/real-world/): comment headers, CRLF, byte order marks, no final newline, 4-space
// indentation, flow style, quoted keys, anchors, document markers, an empty or another `hsm:`,
// `export` lines, duplicates, continuations, Latin-1 bytes. Each goes through the real planner and
// applier (fakes only at the OS ports) with the HSM migration's two changes and a plain set/unset,
// and the promise is checked byte for byte: only the targeted lines change, the result parses (YAML
// with `yaml`, the env file as systemd reads it), line endings, the byte order mark and the final
// newline stay, every comment stays, no secret shows in a plan's diff. What the agent cannot edit
// safely is refused with a 4xx naming the file, and nothing is written.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { diffLines, splitLines } from '../../../../shared/change/line-diff.js'
import { effectiveEnv, parseEnvFile } from '../../../../shared/edit/env-parse.js'
import { API_KEY, buildApplier, change, CONFIG_PATH, ENV, ENV_PATH, HSM_KEY, hsmSpec } from '../../../helpers/applier-fixture.js'
import { repoRoot } from '../../../lab/repo.js'

const DIR = join(repoRoot(), 'test/fixtures/real-world')
const bytes = (name: string): Buffer => readFileSync(join(DIR, name))
const text = (name: string): string => bytes(name).toString('utf8')
const BOM = '\uFEFF'
const MINIMAL_CONFIG = 'version: v1\n'

/** Old lines the edit removed or changed, and new lines it added (line endings included). */
function lineChanges (before: string, after: string): { removed: string[], added: string[] } {
  const a = splitLines(before)
  const b = splitLines(after)
  const ops = diffLines(a, b)
  return {
    removed: ops.flatMap((o) => o.kind === 'delete' ? [a[o.a] ?? ''] : []),
    added: ops.flatMap((o) => o.kind === 'insert' ? [b[o.b] ?? ''] : [])
  }
}

/** What must hold of every edit of a file, whatever its shape; `removed` are lines the edit was meant to remove. */
function sameShape (t: Test, before: string, after: string, removed: readonly string[] = []): void {
  t.equal(after.startsWith(BOM), before.startsWith(BOM), 'byte order mark kept (or absent)')
  t.equal(/\n$/.test(after), /\n$/.test(before), 'final newline kept (or absent)')
  if (/\r\n/.test(before)) t.notMatch(after.replace(/\r\n/g, ''), /\n/, 'CRLF file: every line break is still CRLF')
  else t.notMatch(after, /\r/, 'LF file: no CR appears')
  const comments = (s: string): string[] => s.split(/\r?\n/).filter((l) => /^\s*#/.test(l))
  const gone = new Set(removed.map((l) => l.replace(/\r?\n$/, '')))
  const kept = comments(before).filter((l) => !gone.has(l))
  t.same(comments(after).filter((l) => kept.includes(l)), kept, 'every comment line kept, in order (but those of a removed block)')
}

function noSecrets (t: Test, diff: string, secrets: readonly string[]): void {
  for (const s of [API_KEY, HSM_KEY, ...secrets]) t.notOk(diff.includes(s), `secret not in the diff: ${s.slice(0, 6)}…`)
}

interface ConfigCase {
  file: string
  /** Lines (trimmed) the HSM change may remove or rewrite; default none. */
  rewrites?: RegExp
  /** The replaceHsm deletion of phase B, and the secrets its block holds. */
  replace?: { path: string, secrets: string[] }
}

const CONFIGS: ConfigCase[] = [
  { file: 'commented-header.yaml' },
  { file: 'crlf-windows.yaml' },
  { file: 'bom-lf.yaml' },
  { file: 'bom-crlf-no-final-newline.yaml', rewrites: /^ {2}error: on$/ },
  { file: 'four-spaces-trailing-blanks.yaml' },
  { file: 'flow-style.yaml' },
  { file: 'quoted-keys-values.yaml' },
  { file: 'anchors-elsewhere.yaml' },
  { file: 'document-markers.yaml' },
  { file: 'empty-hsm.yaml', rewrites: /^hsm:$/ },
  { file: 'long-lines-unusual-order.yaml' },
  { file: 'hsm-vault.yaml', replace: { path: 'hsm.hashicorp.vault', secrets: ['2b7d-vault-approle-secret-id-4e1f'] } },
  {
    file: 'hsm-aws.yaml',
    rewrites: /^ {2}error: on$/,
    replace: { path: 'hsm.aws.kms', secrets: ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'FwoGZXIvYXdzEXAMPLETOKEN'] }
  }
]

for (const c of CONFIGS) {
  t.test(`config ${c.file}: the HSM change, phase B and a plain set keep every other byte`, async (t) => {
    const before = text(`config/${c.file}`)
    const f = await buildApplier(t.testdir(), { [CONFIG_PATH]: before, [ENV_PATH]: ENV })

    // Phase A: hsm.minio.minkms added.
    const planA = await f.applier.plan(change(hsmSpec(1)))
    const diffA = planA.files.find((x) => x.name === 'config')?.diff ?? ''
    t.match(diffA, /\*\*\*/, 'the API key shows masked')
    noSecrets(t, diffA, c.replace?.secrets ?? [])
    const a = await f.applier.apply(change(hsmSpec(1)))
    t.equal(a.result, 'changed', a.message)
    const afterA = (await f.store.read(CONFIG_PATH)).content ?? ''
    sameShape(t, before, afterA)
    const changesA = lineChanges(before, afterA)
    t.same(changesA.removed.filter((l) => !(c.rewrites?.test(l.replace(/\r?\n$/, '')) ?? false)), [], 'no old line removed or changed')
    const docA = parse(afterA.replace(BOM, '')) as Record<string, unknown>
    const docBefore = parse(before.replace(BOM, '')) as Record<string, unknown>
    const hsmBefore = (docBefore.hsm ?? {}) as Record<string, unknown>
    t.same(docA, { ...docBefore, hsm: { ...hsmBefore, minio: { minkms: { server: ['10.77.0.51:7373'], enclave: 'aistor-key-manager', key: 'aistor-key-manager-hsm', auth: { key: API_KEY } } } } }, 'means the old config plus hsm.minio.minkms')
    t.equal((await f.applier.apply(change(hsmSpec(1)))).result, 'ok', 'the same change again changes nothing')

    // Phase B: the local key goes from the env file and, with replaceHsm, the other HSM block.
    const specB = { revision: 2, files: { env: { unset: ['MINIO_KMS_HSM_KEY'] }, ...(c.replace === undefined ? {} : { config: { delete: [c.replace.path] } }) }, verify: { deadline: '10s', stableFor: '0s' } }
    const planB = await f.applier.plan(change(specB))
    for (const file of planB.files) noSecrets(t, file.diff, c.replace?.secrets ?? [])
    t.equal((await f.applier.apply(change(specB))).result, 'changed')
    const afterB = (await f.store.read(CONFIG_PATH)).content ?? ''
    const changesB = lineChanges(afterA, afterB)
    sameShape(t, afterA, afterB, changesB.removed)
    if (c.replace !== undefined) {
      t.same(changesB.added, [], 'phase B only removes lines')
      const [vendor = '', kind = ''] = c.replace.path.split('.').slice(1)
      t.notOk(((parse(afterB.replace(BOM, '')) as { hsm: Record<string, unknown> }).hsm)[vendor] as unknown, `${vendor}.${kind} gone`)
      for (const s of c.replace.secrets) t.notOk(afterB.includes(s), 'its secret is gone from the file')
    } else {
      t.equal(afterB, afterA, 'config untouched by phase B')
    }

    // A plain set of a nested key, and its delete: back to the bytes of phase B.
    const set = await f.applier.apply(change({ revision: 3, files: { config: { set: { 'cache.expiry.unused': '1m' } } }, verify: { deadline: '10s', stableFor: '0s' } }))
    t.equal(set.result, 'changed', set.message)
    const afterSet = (await f.store.read(CONFIG_PATH)).content ?? ''
    sameShape(t, afterB, afterSet)
    t.equal(((parse(afterSet.replace(BOM, '')) as { cache: { expiry: { unused: string } } }).cache.expiry.unused), '1m')
  })
}

t.test('config whose hsm block carries an anchor an alias copies: refused with 422 saying what to do, nothing written', async (t) => {
  const before = text('config/anchored-hsm.yaml')
  const f = await buildApplier(t.testdir(), { [CONFIG_PATH]: before, [ENV_PATH]: ENV })
  await t.rejects(f.applier.apply(change(hsmSpec(1))), { code: 'SHR_YAML_UNSUPPORTED', statusCode: 422, message: /^\/etc\/minkms\/config\.yaml: cannot edit hsm\.minio\.minkms: hsm carries the anchor &hsm that aliases refer to \(line 2\); edit this part by hand/ })
  t.equal((await f.store.read(CONFIG_PATH)).content, before)
  t.same(f.store.writes, [], 'nothing written')
})

// A Latin-1 byte read as UTF-8 becomes U+FFFD; written back it would change a line the change never
// named (and a rollback would restore the changed bytes).
for (const [file, name] of [['config/latin1-comment.yaml', 'config'], ['env/latin1-comment.env', 'env']] as const) {
  t.test(`${name} file with Latin-1 bytes: refused with 422 naming the file and the line, nothing written`, async (t) => {
    const raw = bytes(file)
    const files = name === 'config' ? { [CONFIG_PATH]: raw, [ENV_PATH]: ENV } : { [CONFIG_PATH]: MINIMAL_CONFIG, [ENV_PATH]: raw }
    const f = await buildApplier(t.testdir(), files)
    const path = name === 'config' ? CONFIG_PATH : ENV_PATH
    const spec = hsmSpec(1, { unsetHsmKey: true })
    await t.rejects(f.applier.plan(change(spec)), { code: 'AGT_FILE_NOT_UTF8', statusCode: 422, message: new RegExp(`^${path} is not valid UTF-8 \\(first bad byte on line 1\\).*convert the file to UTF-8`) })
    await t.rejects(f.applier.apply(change(spec)), { code: 'AGT_FILE_NOT_UTF8' })
    t.same(f.store.writes, [], 'nothing written')
    // A change that leaves that file alone still applies: the file is neither read for an edit nor written.
    const other = name === 'config' ? { env: { set: { MINIO_KMS_VOLUME: '/srv/kms' } } } : { config: { set: { 'log.error': 'off' } } }
    const r = await f.applier.apply(change({ revision: 1, files: other, verify: { deadline: '10s', stableFor: '0s' } }))
    t.equal(r.result, 'changed', r.message)
    t.same(f.store.writes, [name === 'config' ? ENV_PATH : CONFIG_PATH], 'only the other file written')
  })
}

interface EnvCase {
  file: string
  /** Lines (without line ending) that must stay although they mention the key (comments). */
  keeps?: RegExp
}

const ENVS: EnvCase[] = [
  { file: 'debian-default.env' },
  { file: 'crlf.env' },
  { file: 'key-last-no-newline.env' },
  { file: 'duplicates-export-spaces.env' },
  { file: 'commented-key.env', keeps: /^[#;] ?MINIO_KMS_HSM_KEY=/ },
  { file: 'bom.env' },
  { file: 'continued-key.env' }
]

for (const c of ENVS) {
  t.test(`env ${c.file}: MINIO_KMS_HSM_KEY removed with all its lines, every other byte and variable kept`, async (t) => {
    const before = text(`env/${c.file}`)
    const f = await buildApplier(t.testdir(), { [CONFIG_PATH]: MINIMAL_CONFIG, [ENV_PATH]: before })
    const spec = { revision: 1, files: { env: { unset: ['MINIO_KMS_HSM_KEY'] } }, verify: { deadline: '10s', stableFor: '0s' } }
    const plan = await f.applier.plan(change(spec))
    const envPlan = plan.files.find((x) => x.name === 'env')
    noSecrets(t, envPlan?.diff ?? '', ['PuKzChdhTmMcYqfbB+', 'CpR7g2aRHbBO7uaMXdqCJmW40='])
    noSecrets(t, JSON.stringify(envPlan?.warnings ?? []), [])
    if (c.keeps !== undefined) t.match(envPlan?.warnings, [/^line 1 is a comment that holds an HSM key .*remove that line by hand/], 'the commented-out key is pointed out')
    const r = await f.applier.apply(change(spec))
    t.equal(r.result, c.keeps === undefined ? 'changed' : 'ok', r.message)
    const after = (await f.store.read(ENV_PATH)).content ?? ''
    if (c.keeps === undefined) sameShape(t, before.replace(BOM, ''), after)
    else t.equal(after, before, 'a commented-out key is a comment: kept as it is')
    const { removed, added } = lineChanges(before, after)
    t.same(added.filter((l) => !removed.some((r) => r.replace(/\r?\n$/, '') === l.replace(/\r?\n$/, ''))), [], 'no new line')
    for (const l of removed) t.match(l.replace(BOM, '').replace(/\r?\n$/, ''), /MINIO_KMS_HSM_KEY|^CpR7g2|^MINIO_KMS_VOLUME=\/mnt\/minio-kms$/, 'only the key\'s lines go (or the last line, losing its line break)')
    const kept = after.split(/\r?\n/).filter((l) => !(c.keeps?.test(l) ?? false))
    t.notOk(kept.some((l) => l.includes('MINIO_KMS_HSM_KEY') || l.includes('PuKzChdhTmMc')), 'no assignment of the key (export or shadowed ones included) is left')
    const env = effectiveEnv(parseEnvFile(before))
    env.delete('MINIO_KMS_HSM_KEY')
    t.same(Object.fromEntries(effectiveEnv(parseEnvFile(after))), Object.fromEntries(env), 'systemd reads every other variable as before')

    // A plain set of an existing variable and of a new one.
    const set = await f.applier.apply(change({ revision: 2, files: { env: { set: { MINIO_KMS_VOLUME: '/srv/minio kms', MINIO_KMS_NEW: 'x' } } }, verify: { deadline: '10s', stableFor: '0s' } }))
    t.equal(set.result, 'changed', set.message)
    const afterSet = (await f.store.read(ENV_PATH)).content ?? ''
    sameShape(t, after, afterSet)
    const read = effectiveEnv(parseEnvFile(afterSet))
    t.equal(read.get('MINIO_KMS_VOLUME'), '/srv/minio kms')
    t.equal(read.get('MINIO_KMS_NEW'), 'x')
  })
}

// The planner's findings about the env file (lines systemd ignores) were computed and then dropped
// from the plan the agent answers; only the file-mode warning reached the operator.
t.test('env lines systemd ignores are warned about in the plan the agent answers', async (t) => {
  const f = await buildApplier(t.testdir(), { [CONFIG_PATH]: MINIMAL_CONFIG, [ENV_PATH]: text('env/duplicates-export-spaces.env') })
  const plan = await f.applier.plan(change({ revision: 1, files: { env: { set: { MINIO_KMS_VOLUME: '/srv/kms' } } }, verify: { deadline: '10s', stableFor: '0s' } }))
  t.match(plan.files.find((x) => x.name === 'env')?.warnings, [/^line 4 is ignored by systemd: EnvironmentFile lines take no "export"; write KEY=value$/])
})
