// minkms API keys and identities (minkms.md §3.4, from aead.dev/mtls):
//   k1:<base64url 32-byte Ed25519 seed>            (not allowed in FIPS builds)
//   k2:<base64url ECDSA scalar>                    32 bytes P-256, 48 P-384, 66 P-521
//   h1:<base64url SHA-256 of DER SubjectPublicKeyInfo>
// An API key is a secret: nothing here puts it into an error message, a string form or a log.
import {
  X509Certificate, createECDH, createHash, createPrivateKey, createPublicKey, generateKeyPairSync,
  randomBytes, type KeyObject
} from 'node:crypto'
import { inspect } from 'node:util'
import { subjectPublicKeyInfoOf } from './der.js'
import { InvalidApiKeyError, InvalidCertificateError } from './errors.js'

/** `k1` (Ed25519) or `k2` (ECDSA). */
export type ApiKeyKind = 'k1' | 'k2'
/** Curve of a k2 key. */
export type EcCurve = 'P-256' | 'P-384' | 'P-521'

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): everything before the 32 seed bytes.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

const CURVE_BY_SCALAR_SIZE: ReadonlyMap<number, { curve: EcCurve, openssl: string }> = new Map([
  [32, { curve: 'P-256', openssl: 'prime256v1' }],
  [48, { curve: 'P-384', openssl: 'secp384r1' }],
  [66, { curve: 'P-521', openssl: 'secp521r1' }]
])
const SCALAR_SIZE_BY_CURVE: Readonly<Record<EcCurve, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }

const BASE64URL = /^[A-Za-z0-9_-]*$/
const IDENTITY = /^h1:[A-Za-z0-9_-]{43}$/

/**
 * A parsed API key. Its string, JSON and inspect forms show only the kind and the identity
 * (`k2:*** (h1:…)`); the private key is reachable only through the `privateKey` getter.
 */
export class ApiKey {
  /** `k1` (Ed25519) or `k2` (ECDSA). */
  readonly kind: ApiKeyKind
  /** Curve of a k2 key; undefined for k1. */
  declare readonly curve?: EcCurve
  /** The public key. */
  readonly publicKey: KeyObject
  /** The `h1:` identity of the public key: what a minkms server sees for this key. */
  readonly identity: string
  readonly #privateKey: KeyObject

  /** Wraps a private key. Use {@link parseApiKey} for `k1:`/`k2:` strings. */
  constructor (kind: ApiKeyKind, privateKey: KeyObject, curve?: EcCurve) {
    this.kind = kind
    if (curve !== undefined) this.curve = curve
    this.#privateKey = privateKey
    this.publicKey = createPublicKey(privateKey)
    this.identity = identityOfPublicKey(this.publicKey)
  }

  /** The private key (Ed25519 or ECDSA KeyObject). */
  get privateKey (): KeyObject { return this.#privateKey }

  /** `k1:*** (h1:…)`: never the secret. */
  toString (): string { return `${this.kind}:*** (${this.identity})` }
  /** Same as toString. */
  toJSON (): string { return this.toString() }
  /** Same as toString. */
  [inspect.custom] (): string { return `ApiKey <${this.toString()}>` }
}

/**
 * Parses a `k1:` or `k2:` API key. Throws InvalidApiKeyError saying what is wrong (prefix,
 * encoding, length, scalar out of range); the message never contains the key.
 */
export function parseApiKey (s: string): ApiKey {
  if (typeof s !== 'string') throw new InvalidApiKeyError('API key must be a string')
  const prefix = s.slice(0, 3)
  if (prefix === 'h1:') throw new InvalidApiKeyError('expected an API key (k1:/k2:) but got an identity (h1:)')
  if (s.startsWith('hsm:')) throw new InvalidApiKeyError('expected an API key (k1:/k2:) but got an HSM key (hsm:)')
  if (prefix !== 'k1:' && prefix !== 'k2:') throw new InvalidApiKeyError('API key must start with "k1:" or "k2:"')
  const bytes = decodeBase64Url(s.slice(3), `${prefix} API key`)
  if (prefix === 'k1:') {
    if (bytes.length !== 32) throw new InvalidApiKeyError(`k1: API key must hold a 32-byte Ed25519 seed, got ${bytes.length} bytes`)
    return new ApiKey('k1', ed25519PrivateKey(bytes))
  }
  const curve = CURVE_BY_SCALAR_SIZE.get(bytes.length)
  if (curve === undefined) {
    throw new InvalidApiKeyError(`k2: API key must hold a 32, 48 or 66-byte ECDSA scalar (P-256/384/521), got ${bytes.length} bytes`)
  }
  return new ApiKey('k2', ecdsaPrivateKey(bytes, curve.curve, curve.openssl), curve.curve)
}

/** True when `s` is a valid `k1:`/`k2:` API key (it parses). */
export function isApiKeyString (s: unknown): s is string {
  if (typeof s !== 'string') return false
  try {
    parseApiKey(s)
    return true
  } catch {
    return false
  }
}

/** True when `s` is a syntactically valid `h1:` identity (43 base64url chars, 32 bytes). */
export function isIdentity (s: unknown): s is string {
  if (typeof s !== 'string' || !IDENTITY.test(s)) return false
  return Buffer.from(Buffer.from(s.slice(3), 'base64url')).toString('base64url') === s.slice(3)
}

/**
 * A new random API key and its identity. `k2` (the default, as `minkms add-identity` prints)
 * uses `curve` (default P-256); `k1` is an Ed25519 seed.
 */
export function generateApiKey (kind: ApiKeyKind = 'k2', curve: EcCurve = 'P-256'): { key: string, identity: string } {
  if (kind === 'k1') {
    const seed = randomBytes(32)
    return { key: `k1:${seed.toString('base64url')}`, identity: new ApiKey('k1', ed25519PrivateKey(seed)).identity }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url')
  if (d.length !== SCALAR_SIZE_BY_CURVE[curve]) throw new Error(`generated ${curve} scalar has ${d.length} bytes`)
  return { key: `k2:${d.toString('base64url')}`, identity: identityOfPublicKey(publicKey) }
}

/** The `h1:` identity of a public key (a private key is reduced to its public half). */
export function identityOfPublicKey (key: KeyObject): string {
  if (key.type === 'secret') throw new TypeError('identityOfPublicKey needs an asymmetric key')
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return identityOfSpki(pub.export({ format: 'der', type: 'spki' }))
}

/** A certificate as PEM text, DER bytes, or an object carrying its DER (Node's X509Certificate, TLS peer certificates, @peculiar/x509's rawData). */
export type CertificateInput = string | Uint8Array | X509Certificate | { raw: Uint8Array } | { rawData: ArrayBuffer }

/**
 * The `h1:` identity of a certificate: SHA-256 over its raw SubjectPublicKeyInfo. This is how a
 * minkms server identifies a client, e.g. `identityOfCertificate(socket.getPeerX509Certificate())`.
 * For a PEM bundle the first certificate counts.
 */
export function identityOfCertificate (cert: CertificateInput): string {
  return identityOfSpki(subjectPublicKeyInfoOf(certificateDer(cert)))
}

function identityOfSpki (spki: Uint8Array): string {
  return `h1:${createHash('sha256').update(spki).digest('base64url')}`
}

function certificateDer (cert: CertificateInput): Uint8Array {
  if (typeof cert === 'string') {
    const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(cert)
    if (m?.[1] === undefined) throw new InvalidCertificateError('no PEM CERTIFICATE block found')
    return Buffer.from(m[1].replace(/\s+/g, ''), 'base64')
  }
  if (cert instanceof Uint8Array) return cert
  if (cert instanceof X509Certificate) return cert.raw
  if ('raw' in cert) return cert.raw
  return new Uint8Array(cert.rawData)
}

function decodeBase64Url (s: string, what: string): Buffer {
  if (!BASE64URL.test(s)) throw new InvalidApiKeyError(`${what} is not base64url without padding`)
  const bytes = Buffer.from(s, 'base64url')
  // Node ignores stray trailing bits; a canonical encoding must round trip exactly.
  if (bytes.toString('base64url') !== s) throw new InvalidApiKeyError(`${what} is not canonical base64url`)
  return bytes
}

function ed25519PrivateKey (seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

function ecdsaPrivateKey (d: Buffer, curve: EcCurve, opensslCurve: string): KeyObject {
  // JWK import needs the public point; ECDH derives it and rejects scalars outside [1, n).
  const ecdh = createECDH(opensslCurve)
  try {
    ecdh.setPrivateKey(d)
  } catch {
    throw new InvalidApiKeyError(`k2: API key is not a valid ${curve} private scalar`)
  }
  const point = ecdh.getPublicKey()
  const size = (point.length - 1) / 2
  return createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: curve,
      d: d.toString('base64url'),
      x: point.subarray(1, 1 + size).toString('base64url'),
      y: point.subarray(1 + size).toString('base64url')
    }
  })
}
