// One TLS context per distinct material, shared: the same CA, certificate and key (by content,
// not by object) give the same context; any difference gives another; material that cannot make
// a context falls back to the plain options, so the error stays where the connection reports it.
import t from 'tap'
import { sharedSecureContext, tlsConnectMaterial } from '../../../shared/tls-context.js'
import { LabCa } from '../../lab/lab-ca.js'

const ca = await LabCa.create('tls-context test CA')
const a = await ca.issue({ commonName: 'a', usage: ['client'] })
const b = await ca.issue({ commonName: 'b', usage: ['client'] })

t.test('same material (equal content) → one context; other material → another', async t => {
  const one = sharedSecureContext({ ca: ca.certPem, cert: a.cert, key: a.key, minVersion: 'TLSv1.2' })
  t.ok(one !== undefined)
  t.equal(sharedSecureContext({ ca: Buffer.from(ca.certPem), cert: String(a.cert), key: String(a.key), minVersion: 'TLSv1.2' }), one, 'equal content, other objects: the same context')
  t.equal(sharedSecureContext({ ca: [ca.certPem], cert: a.cert, key: a.key, minVersion: 'TLSv1.2' }), one, 'a CA bundle of one is that CA')
  t.not(sharedSecureContext({ ca: ca.certPem, cert: b.cert, key: b.key, minVersion: 'TLSv1.2' }), one, 'another certificate')
  t.not(sharedSecureContext({ ca: ca.certPem, minVersion: 'TLSv1.2' }), one, 'no client certificate')
  t.not(sharedSecureContext({ ca: ca.certPem, cert: a.cert, key: a.key, minVersion: 'TLSv1.3' }), one, 'another minimum version')
  t.same(Object.keys(tlsConnectMaterial({ ca: ca.certPem })), ['secureContext'])
})

t.test('material that makes no context: the plain options, for the connection to refuse', async t => {
  t.equal(sharedSecureContext({ ca: ca.certPem, cert: a.cert, key: b.key }), undefined, 'a key that does not match its certificate')
  t.same(tlsConnectMaterial({ ca: ca.certPem, cert: a.cert, key: b.key, minVersion: 'TLSv1.2' }), { ca: ca.certPem, cert: a.cert, key: b.key, minVersion: 'TLSv1.2' })
})
