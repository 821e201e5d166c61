// The agent's last-line secret mask: every key-shaped value in an answer is masked, except the
// one value a route named with reply.revealSecret, in a 200 answer of that route only.
import Fastify from 'fastify'
import t from 'tap'
import { secretMaskPlugin } from '../../../../agent/plugins/secret-mask.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'

const SHOWN = generateApiKey('k1').key
const OTHER = generateApiKey('k2').key

t.test('only the named value passes, only in a 200 of the route that named it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(secretMaskPlugin)
  app.get('/reveal', async (_req, reply) => {
    reply.revealSecret = new Secret(SHOWN)
    return { key: SHOWN, other: OTHER, again: `${SHOWN}!` }
  })
  app.get('/reveal-failed', async (_req, reply) => {
    reply.revealSecret = new Secret(SHOWN)
    return await reply.code(500).send({ message: `failed with ${SHOWN}` })
  })
  app.get('/plain', async () => ({ key: SHOWN }))
  const r = await app.inject('/reveal')
  t.same(r.json(), { key: SHOWN, other: '***', again: `${SHOWN}!` }, 'the named key passes; the other is masked')
  t.notMatch((await app.inject('/reveal-failed')).body, SHOWN.slice(3), 'an error answer is masked whatever the route named')
  t.notMatch((await app.inject('/plain')).body, SHOWN.slice(3), 'another route is masked')
})
