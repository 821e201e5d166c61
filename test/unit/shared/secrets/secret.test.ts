import t from 'tap'
import { inspect } from 'node:util'
import { SECRET_PLACEHOLDER, Secret, isSecret, reveal } from '../../../../shared/secrets/secret.js'

const VALUE = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='

t.test('no string form reveals the value', async t => {
  const s = new Secret(VALUE)
  const forms = [
    String(s), `${s}`, JSON.stringify(s), JSON.stringify({ nested: { s } }), inspect(s),
    inspect({ deep: [s] }, { depth: 10, showHidden: true }), Object.keys(s).join(','), JSON.stringify(Object.entries(s))
  ]
  for (const f of forms) t.notMatch(f, 'PuKzChdh', `form ${f}`)
  t.equal(String(s), '***')
  t.equal(JSON.stringify({ s }), '{"s":"***"}')
  t.equal(inspect(s), 'Secret <***>')
  t.equal(SECRET_PLACEHOLDER, '***')
})

t.test('reveal, equals and isSecret', async t => {
  const s = new Secret(VALUE)
  t.equal(s.reveal(), VALUE)
  t.equal(reveal(s), VALUE)
  t.equal(reveal('plain'), 'plain')
  t.ok(s.equals(VALUE))
  t.ok(s.equals(new Secret(VALUE)))
  t.notOk(s.equals('other'))
  t.ok(isSecret(s))
  t.notOk(isSecret(VALUE))
  t.ok(Object.isFrozen(s))
  t.throws(() => new Secret(42 as unknown as string), TypeError)
})
