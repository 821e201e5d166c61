import t from 'tap'
import { envValueProblem, quoteEnvValue } from '../../../../shared/edit/env-quote.js'

t.test('quoting only when needed, in the preferred style', async t => {
  t.equal(quoteEnvValue('/mnt/minio-kms'), '/mnt/minio-kms')
  t.equal(quoteEnvValue('k1:abc_-=+,.@%'), 'k1:abc_-=+,.@%')
  t.equal(quoteEnvValue(''), '')
  t.equal(quoteEnvValue('a b'), '"a b"')
  t.equal(quoteEnvValue('x', 'double'), '"x"')
  t.equal(quoteEnvValue('x y', 'single'), "'x y'")
  t.equal(quoteEnvValue("it's", 'single'), '"it\'s"')
  t.equal(quoteEnvValue('"\\`$'), '"\\"\\\\\\`\\$"')
  for (const c of ['#', ';', '*', '?', '[', '~', '!', '&', '|', '<', '>', '(', ')', '\t', "'"]) t.equal(quoteEnvValue(`a${c}b`)[0], '"', `quotes ${JSON.stringify(c)}`)
})

t.test('values an EnvironmentFile cannot hold', async t => {
  t.equal(envValueProblem('fine'), undefined)
  t.equal(envValueProblem('a\nb'), 'must not contain a line break (CR or LF)')
  t.equal(envValueProblem('a\rb'), 'must not contain a line break (CR or LF)')
  t.equal(envValueProblem('a\0b'), 'must not contain NUL')
  t.equal(envValueProblem(5), 'must be a string')
})
