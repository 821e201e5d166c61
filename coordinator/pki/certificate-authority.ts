// A site's certificate authority: one self-signed ECDSA P-256 CA that issues the coordinator's and
// the agents' certificates. Each certificate gets a fresh P-256 key and exactly one extended key
// usage (serverAuth or clientAuth), so a server key cannot act as a client and the reverse.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { KeyObject, randomBytes, webcrypto } from 'node:crypto'

// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto implements it.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const DAY_MS = 24 * 3600 * 1000
// Certificates start an hour in the past so that a node whose clock runs a little behind accepts them.
const BACKDATE_MS = 3600 * 1000

/** Validity of the CA and of the certificates it issues, in days. */
export const PKI_DAYS = { ca: 3650, leaf: 825 } as const

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export interface CertKeyPem { cert: string, key: string }

/** What a certificate is for and whom it names. */
export interface IssueRequest {
  commonName: string
  usage: 'server' | 'client'
  dns?: readonly string[]
  ips?: readonly string[]
  days?: number
}

function serial (): string {
  const b = randomBytes(16)
  b[0] = (b[0] ?? 0) & 0x7f // a positive serial
  return b.toString('hex')
}

async function keyPair (): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
}

function pkcs8Pem (key: CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString()
}

/** A CA that can issue certificates. */
export class CertificateAuthority {
  private constructor (
    /** The CA certificate, PEM. */
    readonly certPem: string,
    /** The CA key, PEM (PKCS#8). */
    readonly keyPem: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey
  ) {}

  /** A new CA named `name`. */
  static async create (name: string, days: number = PKI_DAYS.ca): Promise<CertificateAuthority> {
    const keys = await keyPair()
    const now = Date.now()
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: [{ CN: [name] }],
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + days * DAY_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        // pathLength 0: the CA signs only end-entity certificates, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
      ]
    })
    return new CertificateAuthority(cert.toString('pem') + '\n', pkcs8Pem(keys.privateKey), cert, keys.privateKey)
  }

  /** The CA of a certificate and key written earlier (PEM). */
  static async load (certPem: string, keyPem: string): Promise<CertificateAuthority> {
    const cert = new x509.X509Certificate(certPem)
    const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), ALG, true, ['sign'])
    return new CertificateAuthority(certPem, keyPem, cert, key)
  }

  /** Issues a certificate for a fresh P-256 key. */
  async issue (req: IssueRequest): Promise<CertKeyPem> {
    const keys = await keyPair()
    const now = Date.now()
    const names: x509.JsonGeneralNames = [
      ...(req.dns ?? []).map(value => ({ type: 'dns' as const, value })),
      ...(req.ips ?? []).map(value => ({ type: 'ip' as const, value }))
    ]
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: [{ CN: [req.commonName] }],
      issuer: this.cert.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + (req.days ?? PKI_DAYS.leaf) * DAY_MS),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([req.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert)
      ]
    })
    return { cert: cert.toString('pem') + '\n', key: pkcs8Pem(keys.privateKey) }
  }
}
