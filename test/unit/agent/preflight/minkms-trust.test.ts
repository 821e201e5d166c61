// The trust the preflight verifies external servers against: the node's minkms `tls.ca` (a file
// or a directory of PEM files), or the system store without it; every way it cannot be read is a
// reason, never a throw.
import t from 'tap'
import { writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readMinkmsTrust } from '../../../../agent/preflight/minkms-trust.js'

const PEM = (n: number): string => `-----BEGIN CERTIFICATE-----\nMIIB${n}\n-----END CERTIFICATE-----\n`

t.test('tls.ca as a directory, as a file, absent', async (t) => {
  const dir = t.testdir({})
  const cas = join(dir, 'CAs')
  await mkdir(cas)
  await writeFile(join(cas, 'b.pem'), PEM(2))
  await writeFile(join(cas, 'a.pem'), PEM(1) + 'junk\n' + PEM(3))
  const config = join(dir, 'config.yaml')

  await writeFile(config, `# c\nversion: v1\ntls:\n  certs: []\n  ca: ${cas}\n`)
  const fromDir = await readMinkmsTrust(config)
  t.match(fromDir, { source: 'tls.ca', path: cas })
  t.same('ca' in fromDir ? fromDir.ca : [], [PEM(1), PEM(3), PEM(2)], 'every certificate, files in name order')

  await writeFile(config, `tls:\n  ca: ${join(cas, 'b.pem')}\n`)
  t.same(await readMinkmsTrust(config), { source: 'tls.ca', path: join(cas, 'b.pem'), ca: [PEM(2)] })

  await writeFile(config, 'tls:\n  certs: []\n')
  t.same(await readMinkmsTrust(config), { source: 'system' })
})

t.test('what cannot be read is a reason', async (t) => {
  const dir = t.testdir({ 'empty.pem': 'nothing here\n' })
  const config = join(dir, 'config.yaml')
  t.match(await readMinkmsTrust(config), { source: 'system', error: /cannot read the minkms config .*ENOENT/ })

  await writeFile(config, 'tls:\n  ca: certs/CAs\n')
  t.match(await readMinkmsTrust(config), { source: 'tls.ca', path: 'certs/CAs', error: /is relative; .*make it absolute/ })

  await writeFile(config, `tls:\n  ca: ${join(dir, 'missing')}\n`)
  t.match(await readMinkmsTrust(config), { error: /cannot read the CA certificates of tls.ca .*ENOENT/ })

  await writeFile(config, `tls:\n  ca: ${join(dir, 'empty.pem')}\n`)
  t.match(await readMinkmsTrust(config), { error: /no PEM certificate found there/ })

  await writeFile(config, 'tls:\n  ca: [1, 2]\n')
  t.match(await readMinkmsTrust(config), { source: 'tls.ca', error: /is not a path/ })

  await writeFile(config, 'tls: [\n  auth: k1:secretsecretsecret\n')
  const broken = await readMinkmsTrust(config)
  t.match(broken, { error: /is not valid YAML/ })
  t.notMatch(JSON.stringify(broken), 'secretsecret', 'the broken text is not quoted')
})
