// A throw-away PKI for emulator tests: a CA and a server certificate for 127.0.0.1/localhost,
// written as PEM files the way the lab lays them out (/etc/minkms/certs/{private.key,public.crt,CAs/}).
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KeyObject, webcrypto } from 'node:crypto'

type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[0]
type X509KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys']
x509.cryptoProvider.set(webcrypto as unknown as X509Crypto)

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

export interface TestPki {
  /** Directory holding `private.key`, `public.crt` and `CAs/ca.crt`. */
  dir: string
  keyPath: string
  certPath: string
  caDir: string
  caPem: string
}

async function keyPair (): Promise<X509KeyPair> {
  return await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as unknown as X509KeyPair
}

function pkcs8Pem (key: unknown): string {
  return KeyObject.from(key as webcrypto.CryptoKey).export({ format: 'pem', type: 'pkcs8' }).toString()
}

/** Creates the PKI under `dir` (which must exist). */
export async function createTestPki (dir: string): Promise<TestPki> {
  const now = new Date(Date.now() - 60_000)
  const later = new Date(Date.now() + 24 * 3600_000)
  const caKeys = await keyPair()
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=keyroll emulator test CA',
    notBefore: now,
    notAfter: later,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)
    ]
  })
  const serverKeys = await keyPair()
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore: now,
    notAfter: later,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth])
    ]
  })
  const caDir = join(dir, 'CAs')
  mkdirSync(caDir, { recursive: true })
  const keyPath = join(dir, 'private.key')
  const certPath = join(dir, 'public.crt')
  const caPem = ca.toString('pem') + '\n'
  writeFileSync(keyPath, pkcs8Pem(serverKeys.privateKey), { mode: 0o600 })
  writeFileSync(certPath, server.toString('pem') + '\n')
  writeFileSync(join(caDir, 'ca.crt'), caPem)
  return { dir, keyPath, certPath, caDir, caPem }
}
