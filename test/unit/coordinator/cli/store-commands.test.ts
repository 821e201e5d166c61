// keyroll token create, token revoke and keyroll audit verify through their ports: the token
// printed once (or written 0600), bad roles and names refused, an unknown token to revoke refused,
// and a store that cannot be opened reported.
import t from 'tap'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TokenIssuer, TokenRole } from '../../../../coordinator/cli/token-issuer.js'
import { cli, tempDir } from './stand-in.js'

const SECRET = 'krt_Xy7pQ2mN9vB4cL8kJ3hG6fD1sA5zW0eR'

function fakeIssuer (): { open: (dir: string) => Promise<TokenIssuer>, made: Array<{ dir: string, name: string, role: TokenRole }>, revoked: string[], closed: number } {
  const state = { made: [] as Array<{ dir: string, name: string, role: TokenRole }>, revoked: [] as string[], closed: 0 }
  return {
    get made () { return state.made },
    get revoked () { return state.revoked },
    get closed () { return state.closed },
    open: async (dir) => ({
      create: async (name, role) => { state.made.push({ dir, name, role }); return SECRET },
      revoke: async (name) => {
        if (!state.made.some((m) => m.name === name) || state.revoked.includes(name)) return false
        state.revoked.push(name)
        return true
      },
      close: async () => { state.closed++ }
    })
  }
}

t.test('token create prints the token once, alone on stdout; --json as a document', async t => {
  const f = fakeIssuer()
  const r = await cli(['token', 'create', '--role', 'operator', '--name', 'alice', '--state-dir', '/var/lib/keyroll'], { openTokenIssuer: f.open })
  t.equal(r.code, 0)
  t.equal(r.stdout, `${SECRET}\n`)
  t.match(r.stderr, /created operator token "alice"; it is shown once/)
  t.notMatch(r.stderr, new RegExp(SECRET))
  t.same(f.made, [{ dir: '/var/lib/keyroll', name: 'alice', role: 'operator' }])
  t.equal(f.closed, 1, 'the store is closed')
  const json = await cli(['token', 'create', '--role', 'viewer', '--name', 'grafana', '--state-dir', '/s', '--json'], { openTokenIssuer: f.open })
  t.same(JSON.parse(json.stdout), { name: 'grafana', role: 'viewer', token: SECRET })
})

t.test('token create --out writes a 0600 file and prints no token; an existing file needs --force', async t => {
  const dir = await tempDir(t)
  const f = fakeIssuer()
  const out = join(dir, 'operator.token')
  const r = await cli(['token', 'create', '--role', 'operator', '--name', 'ops', '--state-dir', dir, '--out', out], { openTokenIssuer: f.open })
  t.equal(r.code, 0)
  t.equal(await readFile(out, 'utf8'), `${SECRET}\n`)
  t.equal((await stat(out)).mode & 0o777, 0o600)
  t.notMatch(r.stdout + r.stderr, new RegExp(SECRET))
  t.match(r.stdout, /written to .*operator\.token \(mode 0600\)/)

  await writeFile(out, 'old\n')
  const again = await cli(['token', 'create', '--role', 'operator', '--name', 'ops', '--state-dir', dir, '--out', out], { openTokenIssuer: f.open })
  t.equal(again.code, 2)
  t.match(again.stderr, /--out .* exists; .*--force/)
  const forced = await cli(['token', 'create', '--role', 'operator', '--name', 'ops', '--state-dir', dir, '--out', out, '--force'], { openTokenIssuer: f.open })
  t.equal(forced.code, 0)
  t.equal(await readFile(out, 'utf8'), `${SECRET}\n`)
  t.equal((await stat(out)).mode & 0o777, 0o600)
})

t.test('token create refuses bad roles and names (exit 2); a store that cannot be opened exits 1', async t => {
  const f = fakeIssuer()
  t.equal((await cli(['token', 'create', '--role', 'admin', '--name', 'a', '--state-dir', '/s'], { openTokenIssuer: f.open })).code, 2)
  const name = await cli(['token', 'create', '--role', 'viewer', '--name', 'no spaces', '--state-dir', '/s'], { openTokenIssuer: f.open })
  t.equal(name.code, 2)
  t.match(name.stderr, /--name "no spaces" is not valid/)
  t.equal((await cli(['token', 'create', '--role', 'viewer', '--name', 'has_underscore', '--state-dir', '/s'], { openTokenIssuer: f.open })).code, 2, 'no _ (it separates the parts of a token)')
  t.same(f.made, [], 'nothing created')
  const real = await cli(['token', 'create', '--role', 'viewer', '--name', 'a', '--state-dir', '/nonexistent'], {})
  t.equal(real.code, 1)
  t.match(real.stderr, /CRD_CLI_STORE_UNAVAILABLE/)
})

t.test('token create writes into a real store: the token printed once, only its hash stored', async t => {
  const dir = t.testdir({})
  const made = await cli(['token', 'create', '--role', 'operator', '--name', 'alice', '--state-dir', dir], {})
  t.equal(made.code, 0, made.stderr)
  const token = made.stdout.trim()
  t.match(token, /^krt_alice_[0-9a-f]{64}$/)
  const { SqliteRolloutStore } = await import('../../../../coordinator/store/sqlite-rollout-store.js')
  const store = SqliteRolloutStore.inStateDir(dir)
  t.teardown(async () => { await store.close() })
  t.match(await store.listTokens(), [{ name: 'alice', role: 'operator' }])
  const { readFileSync } = await import('node:fs')
  t.notOk(readFileSync(`${dir}/keyroll.db`).includes(token.split('_')[2] ?? 'x'), 'the secret part is not in the store file')
})

t.test('audit verify: exit 0 for an intact chain, 1 for a broken one', async t => {
  const seen: string[] = []
  const ok = await cli(['audit', 'verify', '--state-dir', '/var/lib/keyroll'], { verifyAudit: async (p) => { seen.push(p); return { ok: true, entries: 12, head: 'ab12' } } })
  t.equal(ok.code, 0)
  t.same(seen, ['/var/lib/keyroll/keyroll.db'])
  t.match(ok.stdout, /audit log intact: 12 entries, head ab12/)
  const bad = await cli(['audit', 'verify', '--state-dir', '/s', '--json'], { verifyAudit: async () => ({ ok: false, entries: 12, head: 'cd34', firstBad: { seq: 7, reason: 'hash mismatch' } }) })
  t.equal(bad.code, 1)
  t.same(JSON.parse(bad.stdout), { ok: false, entries: 12, head: 'cd34', firstBad: { seq: 7, reason: 'hash mismatch' } })
  t.equal((await cli(['audit', 'verify', '--state-dir', '/s'], { verifyAudit: async () => ({ ok: false, entries: 2, head: 'x', firstBad: { seq: 2, reason: 'hash mismatch' } }) })).stdout, 'AUDIT LOG BROKEN at entry #2: hash mismatch\n')
})

t.test('audit verify on a real store file: intact, then broken by an edit; a missing file exits 1', async t => {
  const { SqliteRolloutStore } = await import('../../../../coordinator/store/sqlite-rollout-store.js')
  const { openStoreDb } = await import('../../../../coordinator/store/sqlite-db.js')
  const dir = await tempDir(t)
  const store = SqliteRolloutStore.inStateDir(dir)
  for (const target of ['r-1', 'r-2', 'r-3']) await store.appendAudit({ at: 1, actor: 'alice', action: 'rollout.create', target, detail: {} })
  await store.close()
  const ok = await cli(['audit', 'verify', '--state-dir', dir], {})
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /audit log intact: 3 entries, head [0-9a-f]{64}/)

  const db = openStoreDb(join(dir, 'keyroll.db'))
  // Tampering directly in the file, past the store's append-only triggers.
  db.exec("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 2")
  db.close()
  const bad = await cli(['audit', 'verify', '--state-dir', dir], {})
  t.equal(bad.code, 1)
  t.match(bad.stdout, /AUDIT LOG BROKEN at entry #2/)

  const missing = await cli(['audit', 'verify', '--state-dir', join(dir, 'nope')], {})
  t.equal(missing.code, 1)
  t.match(missing.stderr, /CRD_CLI_STORE_UNAVAILABLE: cannot verify the audit log in .*nope\/keyroll\.db/)
})

t.test('token revoke revokes a live token by name; an unknown or revoked one is refused with exit 2', async t => {
  const f = fakeIssuer()
  await cli(['token', 'create', '--role', 'operator', '--name', 'alice', '--state-dir', '/s'], { openTokenIssuer: f.open })
  const r = await cli(['token', 'revoke', 'alice', '--state-dir', '/s'], { openTokenIssuer: f.open })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout + r.stderr, /revoked token "alice"/)
  t.same(f.revoked, ['alice'])
  const again = await cli(['token', 'revoke', 'alice', '--state-dir', '/s', '--json'], { openTokenIssuer: f.open })
  t.equal(again.code, 2, 'revoked already: exit 2')
  t.match(again.stderr + again.stdout, /no live token named "alice"/)
  const unknown = await cli(['token', 'revoke', 'bob', '--state-dir', '/s'], { openTokenIssuer: f.open })
  t.equal(unknown.code, 2, 'never created: exit 2')
  const bad = await cli(['token', 'revoke', 'has_underscore', '--state-dir', '/s'], { openTokenIssuer: f.open })
  t.equal(bad.code, 2, 'a malformed name: exit 2')
  t.equal(f.closed, 4, 'the store was closed after every use (the malformed name never opened it)')
  const json = await cli(['token', 'create', '--role', 'viewer', '--name', 'carol', '--state-dir', '/s'], { openTokenIssuer: f.open })
  t.equal(json.code, 0)
  const doc = await cli(['token', 'revoke', 'carol', '--state-dir', '/s', '--json'], { openTokenIssuer: f.open })
  t.same(JSON.parse(doc.stdout), { name: 'carol', revoked: true }, '--json prints one document')
})

t.test('token create and revoke on the real SQLite store: the revoked token is refused', async t => {
  const { openStoreTokenIssuer } = await import('../../../../coordinator/cli/token-issuer.js')
  const { SqliteRolloutStore } = await import('../../../../coordinator/store/sqlite-rollout-store.js')
  const { principalOf } = await import('../../../../coordinator/auth/tokens.js')
  const dir = await tempDir(t)
  const made = await cli(['token', 'create', '--role', 'viewer', '--name', 'grafana', '--state-dir', dir], { openTokenIssuer: openStoreTokenIssuer })
  t.equal(made.code, 0, made.stderr)
  const token = made.stdout.trim()
  const revoked = await cli(['token', 'revoke', 'grafana', '--state-dir', dir], { openTokenIssuer: openStoreTokenIssuer })
  t.equal(revoked.code, 0, revoked.stderr)
  const store = SqliteRolloutStore.inStateDir(dir)
  t.teardown(async () => { await store.close() })
  t.equal(await principalOf(store, token), undefined, 'the coordinator would refuse it')
  t.match((await store.audit()).map((a) => a.action), ['token.create', 'token.revoke'], 'both audited')
  t.equal((await cli(['token', 'revoke', 'grafana', '--state-dir', dir], { openTokenIssuer: openStoreTokenIssuer })).code, 2, 'a second revoke: exit 2')
})
