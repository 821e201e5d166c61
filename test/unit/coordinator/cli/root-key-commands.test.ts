// keyroll cluster root-key CLUSTER --out FILE against the real coordinator API in process: the key
// goes to a new 0600 file and nowhere else (stdout shows the identity only); a second run gets the
// 410 saying when, exit 2, and removes the file it reserved; an existing file is refused before the
// one hand-over is spent; a viewer token is refused.
import t from 'tap'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { RootKeyHandOver } from '../../../../coordinator/gate/root-key-handover.js'
import { MemoryRootKeyStore } from '../../../../coordinator/store/root-key-store.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import { realCoordinator } from './real-coordinator.js'
import { cli } from './stand-in.js'

const KEY = generateApiKey('k1')

async function setup (t: Parameters<typeof realCoordinator>[0]): Promise<{ c: Awaited<ReturnType<typeof realCoordinator>>, keys: MemoryRootKeyStore, audit: unknown[] }> {
  const keys = new MemoryRootKeyStore()
  const audit: unknown[] = []
  const rootKeys = new RootKeyHandOver({ store: keys, audit: { appendAudit: async (e) => { audit.push(e); return { ...e, seq: audit.length, prevHash: '', hash: '' } } }, clock: new FakeClock(), clusters: ['c1', 'c2'] })
  const c = await realCoordinator(t, { rootKeys })
  await keys.adopt('c1', KEY.identity, new Secret(KEY.key), 1000)
  return { c, keys, audit }
}

t.test('the key to its new 0600 file only, the identity on stdout; once', async (t) => {
  const { c, audit } = await setup(t)
  const out = join(c.dir, 'c1-root.key')
  const r = await cli(['cluster', 'root-key', 'c1', '--out', out], { env: c.env })
  t.equal(r.code, 0, r.stderr)
  t.equal(await readFile(out, 'utf8'), `${KEY.key}\n`)
  t.equal((await stat(out)).mode & 0o777, 0o600)
  t.match(r.stdout, `cluster c1's root API key (identity ${KEY.identity}) is in ${out} (mode 0600)`)
  t.equal(audit.length, 1, 'audited')

  const second = join(c.dir, 'again.key')
  const again = await cli(['cluster', 'root-key', 'c1', '--out', second, '--json'], { env: c.env })
  t.equal(again.code, 2)
  t.match(again.stderr, /CRD_ROOT_KEY_HANDED_OVER: .*was handed over at .*look in the file/)
  t.notOk(existsSync(second), 'the reserved file is removed')
  const all = r.stdout + r.stderr + again.stdout + again.stderr + c.logs.join('') + JSON.stringify(audit)
  t.notOk(all.includes(KEY.key.slice(3)), 'the key is in no output, log line or audit entry')
})

t.test('an existing file is refused before the hand-over; a viewer is refused; --json prints the identity only', async (t) => {
  const { c, keys } = await setup(t)
  const existing = join(c.dir, 'existing.key')
  await writeFile(existing, 'keep me\n', { mode: 0o600 })
  const refused = await cli(['cluster', 'root-key', 'c1', '--out', existing], { env: c.env })
  t.equal(refused.code, 2)
  t.match(refused.stderr, /--out .* exists; choose a new file/)
  t.equal(await readFile(existing, 'utf8'), 'keep me\n')
  t.equal((await keys.get('c1'))?.handedOverAt, undefined, 'not spent')
  const viewer = await cli(['cluster', 'root-key', 'c1', '--out', join(c.dir, 'v.key')], { env: c.viewerEnv })
  t.equal(viewer.code, 2)
  t.match(viewer.stderr, /CRD_FORBIDDEN/)
  const out = join(c.dir, 'json.key')
  const json = await cli(['cluster', 'root-key', 'c1', '--out', out, '--json'], { env: c.env })
  t.equal(json.code, 0, json.stderr)
  t.same(JSON.parse(json.stdout), { cluster: 'c1', identity: KEY.identity, out })
  const none = await cli(['cluster', 'root-key', 'c2', '--out', join(c.dir, 'c2.key')], { env: c.env })
  t.equal(none.code, 2)
  t.match(none.stderr, /CRD_ROOT_KEY_NONE/)
})
