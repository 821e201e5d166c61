import t from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { CLIENT_CERT_VALIDITY_MS, clientCertificate } from '../../../../shared/minkms/certificate.js'
import { identityOfCertificate, parseApiKey } from '../../../../shared/minkms/keys.js'
import { KEY_VECTORS } from './fixtures/vectors.js'

for (const v of KEY_VECTORS) {
  t.test(`client certificate for ${v.kind} ${v.curve ?? 'Ed25519'}`, async t => {
    const now = new Date('2025-06-01T12:00:00Z')
    const c = await clientCertificate(v.key, { now })
    const cert = new X509Certificate(c.certPem)
    t.equal(cert.subject, `CN=${v.identity}`)
    t.equal(cert.issuer, cert.subject, 'self-signed')
    t.ok(cert.verify(cert.publicKey), 'signed by its own key')
    t.equal(c.identity, v.identity)
    t.equal(identityOfCertificate(cert), v.identity, 'identity of the certificate == identity of the key')
    t.ok(cert.checkPrivateKey(createPrivateKey(c.keyPem)), 'keyPem belongs to the certificate')
    t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'ExtKeyUsage clientAuth only')
    t.equal(new Date(cert.validFrom).getTime(), now.getTime())
    t.equal(new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime(), CLIENT_CERT_VALIDITY_MS, '90 days')
    t.equal(CLIENT_CERT_VALIDITY_MS, 90 * 86400_000)
    t.equal(c.notAfter.getTime(), now.getTime() + CLIENT_CERT_VALIDITY_MS)
    t.ok(cert.serialNumber.length >= 30 && cert.serialNumber.length <= 34, `serial ~128 bits: ${cert.serialNumber}`)
    t.ok(cert.ca === false)

    const parsed = new x509.X509Certificate(c.certPem)
    const ku = parsed.getExtension(x509.KeyUsagesExtension)
    t.ok(ku, 'has KeyUsage')
    t.equal(ku?.usages, x509.KeyUsageFlags.digitalSignature, 'KeyUsage digitalSignature only')
    t.equal(ku?.critical, true)
    const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension)
    t.same(eku?.usages, [x509.ExtendedKeyUsage.clientAuth])
    t.notMatch(c.certPem, v.key.slice(3), 'certificate does not contain the API key text')
  })
}

t.test('serials are random', async t => {
  const key = parseApiKey(KEY_VECTORS[0].key)
  const a = new X509Certificate((await clientCertificate(key)).certPem)
  const b = new X509Certificate((await clientCertificate(key)).certPem)
  t.not(a.serialNumber, b.serialNumber)
})
