// tls.allowedClients on the agent's API, through inject() with the caller's certificate names
// given directly (the TLS side is test/integration/agent-client-pinning.test.ts).
import t from 'tap'
import Fastify from 'fastify'
import { NotFoundError } from '../../../../agent/errors.js'
import { clientPinningPlugin, isAllowedClient } from '../../../../agent/plugins/client-pinning.js'
import { errorHandlerPlugin } from '../../../../shared/errors.js'
import { RateLimitedWarn } from '../../../../shared/rate-limited-warn.js'
import { captureLogger } from '../../../helpers/fake-agent-core.js'

function parsed (lines: string[]): Array<Record<string, unknown>> {
  return lines.map(l => JSON.parse(l) as Record<string, unknown>)
}

t.test('a certificate is allowed when one of its names is listed, without regard to case', async t => {
  t.ok(isAllowedClient(['coord'], ['coord']))
  t.ok(isAllowedClient(['node9', 'Coord.Example.NET'], ['coord.example.net']))
  t.notOk(isAllowedClient(['node2'], ['coord']))
  t.notOk(isAllowedClient([], ['coord']), 'no names: no certificate')
})

t.test('the hook answers 403 AGT_CLIENT_NOT_ALLOWED before the route, and logs who', async t => {
  const { logger, lines } = captureLogger()
  let names: string[] | undefined = ['node2']
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(errorHandlerPlugin, { notFound: (m, p) => new NotFoundError(m, p) })
  app.register(clientPinningPlugin, { allowed: ['coord'], peerNames: () => names, logger })
  let ran = 0
  app.get('/v1/status', async () => { ran++; return { ok: true } })

  const refused = await app.inject({ url: '/v1/status' })
  t.equal(refused.statusCode, 403)
  t.match(refused.json(), { code: 'AGT_CLIENT_NOT_ALLOWED', message: /names node2$/ })
  names = undefined
  t.match((await app.inject({ url: '/v1/status' })).json(), { code: 'AGT_CLIENT_NOT_ALLOWED', message: /names nothing$/ })
  t.equal(ran, 0)
  names = ['coord']
  t.equal((await app.inject({ url: '/v1/status' })).statusCode, 200)
  t.equal(ran, 1)
  t.match(parsed(lines).filter(l => l.msg === 'client certificate not allowed'), [{ level: 40, clientNames: ['node2'], method: 'GET', url: '/v1/status' }, { clientNames: [] }])
})

t.test('refusal lines are rate-limited: the rest of a window is counted in one line', async t => {
  const { logger, lines } = captureLogger()
  let now = 0
  const warn = new RateLimitedWarn(logger, 'more were refused', { perWindow: 2, windowMs: 1000, now: () => now })
  for (let i = 0; i < 5; i++) warn.warn({ i }, 'refused')
  now = 1000
  warn.warn({ i: 5 }, 'refused')
  t.match(parsed(lines).map(l => l.msg), ['refused', 'refused', 'more were refused', 'refused'])
  t.match(parsed(lines)[2], { suppressed: 3, windowMs: 1000 })
})
