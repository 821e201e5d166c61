// API tokens: the format carries the name, only the hash is stored, the clear token is returned
// once, roles order viewer < operator, and a token is never written to the log.
import t from 'tap'
import { createToken, hashToken, principalOf, revokeToken, roleAllows, tokenName } from '../../../../coordinator/auth/tokens.js'
import { MemoryRolloutStore } from '../../../../coordinator/store/memory-rollout-store.js'
import { buildTestCoordinator } from '../../../helpers/coordinator-app.js'

t.test('createToken stores the hash, audits, and returns the token once', async t => {
  const store = new MemoryRolloutStore()
  const { token, stored } = await createToken(store, 'ci-deploy', 'operator', { actor: 'root', now: 1000 })
  t.match(token, /^krt_ci-deploy_[0-9a-f]{64}$/)
  t.same(stored, { name: 'ci-deploy', role: 'operator', hash: hashToken(token), createdAt: 1000 })
  t.notOk(JSON.stringify(await store.listTokens()).includes(token.slice(-64)), 'the secret part is not stored')
  const audit = await store.audit()
  t.match(audit, [{ actor: 'root', action: 'token.create', target: 'ci-deploy', detail: { role: 'operator' } }])
  t.notOk(JSON.stringify(audit).includes(token.slice(-64)), 'nor audited')
  t.same(await principalOf(store, token), { name: 'ci-deploy', role: 'operator' })
  await t.rejects(createToken(store, 'ci-deploy', 'viewer'), { code: 'CRD_BAD_INPUT', message: /exists; revoke it first/ }, 'one live token per name')
  t.ok(await store.revokeToken('ci-deploy', 2000))
  const second = await createToken(store, 'ci-deploy', 'operator')
  t.not(second.token, token, 'random each time')
  t.equal(await principalOf(store, token), undefined, 'the revoked one stays refused')
  t.same(await principalOf(store, second.token), { name: 'ci-deploy', role: 'operator' })
})

t.test('revokeToken revokes the live token of a name, audits it, and says when there was none', async t => {
  const store = new MemoryRolloutStore()
  const { token } = await createToken(store, 'alice', 'operator', { now: 1000 })
  t.equal(await revokeToken(store, 'alice', { actor: 'root', now: 2000 }), true)
  t.equal(await principalOf(store, token), undefined, 'refused from then on')
  t.match((await store.audit()).at(-1), { actor: 'root', action: 'token.revoke', target: 'alice', at: 2000 })
  t.equal(await revokeToken(store, 'alice'), false, 'revoked already')
  t.equal(await revokeToken(store, 'nobody'), false, 'never created')
  t.equal((await store.audit()).length, 2, 'only the real revocation is audited')
  await t.rejects(revokeToken(store, 'a_b'), { code: 'CRD_BAD_INPUT' }, 'a malformed name')
})

t.test('bad names and roles are refused', async t => {
  const store = new MemoryRolloutStore()
  for (const name of ['', 'Bob', 'a_b', 'a b', '-x', 'x'.repeat(64), 'é']) {
    await t.rejects(createToken(store, name, 'viewer'), { code: 'CRD_BAD_INPUT' }, JSON.stringify(name))
  }
  await t.rejects(createToken(store, 'ok', 'admin' as 'viewer'), { code: 'CRD_BAD_INPUT' })
  t.same(await store.listTokens(), [])
})

t.test('principalOf: malformed, unknown, revoked and tampered tokens give nobody', async t => {
  const store = new MemoryRolloutStore()
  const { token } = await createToken(store, 'alice', 'viewer')
  t.equal(tokenName(token), 'alice')
  for (const bad of ['', 'krt_alice', token.toUpperCase(), token.slice(0, -1), `${token}0`, token.replace('alice', 'bob'), `krt_alice_${'0'.repeat(64)}`]) {
    t.equal(await principalOf(store, bad), undefined, bad.slice(0, 24))
  }
  // A store that answers whatever it is asked must still not let a wrong token in.
  const liar = { tokenByHash: async () => ({ name: 'alice', role: 'operator' as const, hash: hashToken('other'), createdAt: 0 }) }
  t.equal(await principalOf(liar, token), undefined, 'the hash is checked again')
  await store.revokeToken('alice', 5)
  t.equal(await principalOf(store, token), undefined, 'revoked')
})

t.test('roles', async t => {
  t.ok(roleAllows('operator', 'viewer'))
  t.ok(roleAllows('operator', 'operator'))
  t.ok(roleAllows('viewer', 'viewer'))
  t.notOk(roleAllows('viewer', 'operator'))
})

t.test('a token never reaches the log, even at debug level with the request headers', async t => {
  const c = await buildTestCoordinator(t)
  for (const headers of [c.operator, c.viewer, { authorization: `Bearer ${c.operatorToken}zz` }]) {
    await c.app.inject({ method: 'GET', url: '/v1/rollouts', headers })
    await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...headers, 'content-type': 'application/json' }, payload: '{' })
  }
  c.app.log.info({ headers: c.operator, detail: { headers: c.viewer } }, 'a careless line')
  c.app.log.warn(`a message quoting ${c.operatorToken}`)
  const log = c.lines.join('')
  t.ok(c.lines.length > 3, 'something was logged')
  for (const token of [c.operatorToken, c.viewerToken]) t.notOk(log.includes(token.slice(-64)), 'no token secret in the log')
  t.match(log, /"authorization":"\*\*\*"/, 'the header is redacted')
})
