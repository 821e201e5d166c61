// The lab's certificate authority: one self-signed ECDSA P-256 CA per lab, which issues each
// node's server certificate (SAN: the node's address and name). Clients in tests verify minkms
// against it instead of skipping verification.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { randomBytes, webcrypto } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'

// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto implements it.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const DAY_MS = 24 * 3600 * 1000

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export interface CertKeyPair { cert: string, key: string }

/** What a certificate is for and whom it names. */
export interface IssueRequest {
  commonName: string
  dns?: string[]
  ips?: string[]
  /** Extended key usages; default both server and client auth. */
  usage?: Array<'server' | 'client'>
  /** Validity in days (default 30). */
  days?: number
}

/** Paths of the CA's files in a lab. */
export function caFiles (caDir: string): { cert: string, key: string } {
  return { cert: join(caDir, 'ca.pem'), key: join(caDir, 'ca.key') }
}

function serial (): string {
  const b = randomBytes(16)
  b[0] = (b[0] ?? 0) & 0x7f // positive
  return b.toString('hex')
}

async function exportKey (key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

/** A lab CA that can issue certificates. */
export class LabCa {
  private constructor (readonly certPem: string, private readonly cert: x509.X509Certificate, private readonly key: CryptoKey) {}

  /** Creates a new CA named `name`. */
  static async create (name: string): Promise<LabCa> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
    const now = Date.now()
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${name}`,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 365 * DAY_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
      ]
    })
    return new LabCa(cert.toString('pem') + '\n', cert, keys.privateKey)
  }

  /** Loads a CA saved with {@link LabCa.save}. */
  static async load (caDir: string): Promise<LabCa> {
    const files = caFiles(caDir)
    const [certPem, keyPem] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')])
    const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), ALG, true, ['sign'])
    return new LabCa(certPem, new x509.X509Certificate(certPem), key)
  }

  /** Writes `ca.pem` (0644) and `ca.key` (0600) to `caDir`. */
  async save (caDir: string): Promise<{ cert: string, key: string }> {
    const files = caFiles(caDir)
    await mkdir(caDir, { recursive: true, mode: 0o700 })
    await writeFile(files.cert, this.certPem, { mode: 0o644 })
    await writeFile(files.key, await exportKey(this.key), { mode: 0o600 })
    return files
  }

  /** Issues a certificate signed by this CA for a fresh P-256 key. */
  async issue (req: IssueRequest): Promise<CertKeyPair> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
    const now = Date.now()
    const names: x509.JsonGeneralNames = [
      ...(req.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(req.ips ?? []).map((value) => ({ type: 'ip' as const, value }))
    ]
    const usage = req.usage ?? ['server', 'client']
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${req.commonName}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + (req.days ?? 30) * DAY_MS),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(usage.map((u) => u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth)),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert)
      ]
    })
    return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) }
  }
}
