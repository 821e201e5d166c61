import t from 'tap'
import { errText } from '../../../shared/error-text.js'

t.test('errText: the message of an Error, the string form of anything else', async t => {
  t.equal(errText(new TypeError('bad input')), 'bad input')
  t.equal(errText('plain'), 'plain')
  t.equal(errText(42), '42')
  t.equal(errText(undefined), 'undefined')
})
