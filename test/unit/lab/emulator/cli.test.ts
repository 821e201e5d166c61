import t from 'tap'
import { normaliseAddress, parseCli } from '../../../lab/emulator/cli.js'

t.test('server with the unit\'s arguments', async (t) => {
  t.same(parseCli(['server', '/mnt/minio-kms', '--host', '10.77.0.11:7373', '--config', '/etc/minkms/config.yaml']), {
    kind: 'server', dataDir: '/mnt/minio-kms', address: '0.0.0.0:7373', host: '10.77.0.11:7373', config: '/etc/minkms/config.yaml'
  })
  t.same(parseCli(['server', '/d', '--address=127.0.0.1']), { kind: 'server', dataDir: '/d', address: '127.0.0.1:7373' })
  t.same(parseCli(['server', '/d', '--address', ':9000']), { kind: 'server', dataDir: '/d', address: '0.0.0.0:9000' })
})

t.test('bad usage is a usage error', async (t) => {
  for (const argv of [[], ['server'], ['server', '/a', '/b'], ['server', '/d', '--bogus'], ['server', '/d', '--address', 'a:b:c:99999'],
    ['frobnicate'], ['--version', 'x'], ['identity', 'a', 'b'], ['server', '/d', '--host', 'http://x/']]) {
    t.equal(parseCli(argv).kind, 'usage-error', argv.join(' '))
  }
})

t.test('other commands', async (t) => {
  t.same(parseCli(['--version']), { kind: 'version' })
  t.same(parseCli(['--soft-hsm']), { kind: 'soft-hsm' })
  t.same(parseCli(['identity', 'k1:abc']), { kind: 'identity', arg: 'k1:abc' })
  t.same(parseCli(['identity']), { kind: 'identity' })
})

t.test('normaliseAddress', async (t) => {
  t.equal(normaliseAddress('10.0.0.1'), '10.0.0.1:7373')
  t.equal(normaliseAddress('[::1]:80'), '[::1]:80')
  t.equal(normaliseAddress('1.2.3.4:70000'), undefined)
})
