// The self-signed TLS client certificate a minkms client presents for an API key (minkms.md §4.2,
// SDK GenerateCertificate): CN = the key's h1: identity, KeyUsage digitalSignature, ExtKeyUsage
// clientAuth, 90 days, random 128-bit serial. The server authorises by the certificate's public
// key hash, not by issuer, so self-signed is what it expects.
//
// @peculiar/x509 resolves its services through tsyringe, which throws unless reflect-metadata is
// loaded first; this module is the only one that imports it, so the import lives here.
import type * as X509 from '@peculiar/x509'
import { randomBytes, webcrypto } from 'node:crypto'
import { parseApiKey, type ApiKey, type EcCurve } from './keys.js'

// The project compiles without the DOM lib, so the WebCrypto types come from x509's own signatures.
type X509Crypto = Parameters<typeof X509.cryptoProvider.set>[0]
type X509KeyPair = Parameters<typeof X509.X509CertificateGenerator.createSelfSigned>[0]['keys']

// Loaded on first use: @peculiar/x509 and its dependencies cost ~10 MB of memory, and a process
// that never authenticates with an API key (the agent's health probes) never needs them.
let loaded: Promise<typeof X509> | undefined
async function x509Module (): Promise<typeof X509> {
  loaded ??= (async () => {
    await import('reflect-metadata')
    const m = await import('@peculiar/x509')
    m.cryptoProvider.set(webcrypto as unknown as X509Crypto)
    return m
  })()
  return await loaded
}

/** How long a generated client certificate is valid. */
export const CLIENT_CERT_VALIDITY_MS = 90 * 24 * 60 * 60 * 1000

/** A client certificate and its key, ready for `tls.connect({ cert, key })`. */
export interface ClientCertificate {
  certPem: string
  /** PKCS#8 PEM of the API key's private key: a secret. */
  keyPem: string
  /** The certificate's CN: the API key's identity. */
  identity: string
  notBefore: Date
  notAfter: Date
}

/** Options for tests: the clock. */
export interface ClientCertificateOptions { now?: Date }

// Go's x509.CreateCertificate picks the hash by curve size; we do the same.
const ECDSA_HASH: Readonly<Record<EcCurve, string>> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }

/** Creates the self-signed client certificate for `apiKey` (an ApiKey or a `k1:`/`k2:` string). */
export async function clientCertificate (apiKey: ApiKey | string, opts: ClientCertificateOptions = {}): Promise<ClientCertificate> {
  const x509 = await x509Module()
  const key = typeof apiKey === 'string' ? parseApiKey(apiKey) : apiKey
  const { importAlg, signingAlgorithm } = algorithmsOf(key)
  const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' })
  const spki = key.publicKey.export({ format: 'der', type: 'spki' })
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlg, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, importAlg, true, ['verify'])
  }
  const notBefore = opts.now ?? new Date()
  const notAfter = new Date(notBefore.getTime() + CLIENT_CERT_VALIDITY_MS)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    name: [{ CN: [key.identity] }],
    notBefore,
    notAfter,
    keys: keys as unknown as X509KeyPair,
    signingAlgorithm,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])
    ]
  })
  return {
    certPem: cert.toString('pem'),
    keyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    identity: key.identity,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter
  }
}

function algorithmsOf (key: ApiKey): { importAlg: webcrypto.EcKeyImportParams | webcrypto.Algorithm, signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams } {
  if (key.kind === 'k1') return { importAlg: { name: 'Ed25519' }, signingAlgorithm: { name: 'Ed25519' } }
  const curve = key.curve ?? 'P-256'
  return {
    importAlg: { name: 'ECDSA', namedCurve: curve },
    signingAlgorithm: { name: 'ECDSA', hash: ECDSA_HASH[curve] }
  }
}
