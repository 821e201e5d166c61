import t from 'tap'
import { decodeError, encodeError } from '../../../../shared/change/error-transfer.js'
import { ChangeSpecSyntaxError, ChangeTooLargeError, ChangeValidationError } from '../../../../shared/change/errors.js'
import { YamlParseError, YamlPathBlockedError } from '../../../../shared/edit/errors.js'

const cross = (e: unknown): Error => decodeError(structuredClone(encodeError(e)))

t.test('coded errors come back as their class, with code, status, message and fields', async t => {
  const originals = [
    new YamlParseError('unexpected end', 3, 7),
    new YamlPathBlockedError('hsm.x', 'hsm', 'a scalar', 2),
    new ChangeTooLargeError('keys', 'too many keys'),
    new ChangeValidationError([{ path: 'files.env.set.A', message: 'must be a string', line: 4 }]),
    new ChangeSpecSyntaxError('bad', { line: 1 })
  ]
  for (const e of originals) {
    const back = cross(e)
    t.equal(back.constructor, e.constructor, e.constructor.name)
    t.ok(back instanceof Error)
    t.equal(back.message, e.message)
    t.same({ ...back }, { ...e }, `${e.constructor.name}: own fields`)
    t.equal(back.stack, e.stack)
  }
})

t.test('anything else comes back as a plain Error with its name and message', async t => {
  const back = cross(new TypeError('boom'))
  t.equal(back.constructor, Error)
  t.equal(back.name, 'TypeError')
  t.equal(back.message, 'boom')
  const thrown = cross('a string')
  t.equal(thrown.message, 'a string')
})
