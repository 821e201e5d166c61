import t from 'tap'
import { DEFAULT_MINKMS_PORT, parseEndpoint, parseEndpoints } from '../../../../shared/minkms/endpoint.js'
import { InvalidClientConfigError } from '../../../../shared/minkms/errors.js'

t.test('accepted forms', async t => {
  t.same(parseEndpoint('node1:7373'), { origin: 'https://node1:7373', host: 'node1:7373' })
  t.same(parseEndpoint('node1'), { origin: `https://node1:${DEFAULT_MINKMS_PORT}`, host: 'node1:7373' })
  t.same(parseEndpoint('https://minkms-1.example.net:7373/'), { origin: 'https://minkms-1.example.net:7373', host: 'minkms-1.example.net:7373' })
  t.same(parseEndpoint(' [::1]:8000 '), { origin: 'https://[::1]:8000', host: '[::1]:8000' })
  t.same(parseEndpoint('https://10.0.0.1'), { origin: 'https://10.0.0.1:7373', host: '10.0.0.1:7373' })
})

t.test('rejected forms', async t => {
  for (const bad of ['', 'http://node1:7373', 'https://node1:7373/v1', 'https://u:p@node1', 'node1:notaport', 'https://node1?x=1']) {
    t.throws(() => parseEndpoint(bad), InvalidClientConfigError, JSON.stringify(bad))
  }
})

t.test('lists drop duplicates and must not be empty', async t => {
  t.same(parseEndpoints(['a:1', 'https://a:1', 'b']).map(e => e.host), ['a:1', 'b:7373'])
  t.throws(() => parseEndpoints([]), { code: 'SHR_MINKMS_INVALID_CONFIG' })
})
