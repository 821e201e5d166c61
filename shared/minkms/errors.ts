// Error catalogue of the minkms client (stable SHR_ codes with their HTTP status; the base is
// shared/errors.ts CodedError).
// The server-side errors must match minkms byte for byte (status AND message): Go callers such as
// MinIO compare them with errors.Is, so the emulator answers with exactly the KMS_ERRORS entries.

import { CodedError, type Catalogue } from '../errors.js'

/** Every code a MinkmsError can carry, with what it means. */
export const MINKMS_ERROR_CODES = {
  SHR_MINKMS_PERMISSION_DENIED: { status: 403, meaning: 'the caller\'s identity may not run this command' },
  SHR_MINKMS_ENCLAVE_EXISTS: { status: 409, meaning: 'ENCLAVE:CREATE for an enclave that exists' },
  SHR_MINKMS_ENCLAVE_NOT_FOUND: { status: 404, meaning: 'the enclave does not exist' },
  SHR_MINKMS_KEY_EXISTS: { status: 409, meaning: 'KEY:CREATE for a key that exists' },
  SHR_MINKMS_KEY_NOT_FOUND: { status: 404, meaning: 'the key or key version does not exist' },
  SHR_MINKMS_POLICY_NOT_FOUND: { status: 404, meaning: 'the policy does not exist' },
  SHR_MINKMS_IDENTITY_NOT_FOUND: { status: 404, meaning: 'the identity does not exist' },
  SHR_MINKMS_INVALID_CIPHERTEXT: { status: 400, meaning: 'KEY:DECRYPT failed: ciphertext, version or associated data wrong' },
  SHR_MINKMS_REQUEST_FAILED: { status: 502, meaning: 'the server answered with another non-200 status; its statusCode is the server\'s status' },
  SHR_MINKMS_UNREACHABLE: { status: 503, meaning: 'no endpoint could be reached (connection, TLS or timeout); cause holds why' },
  SHR_MINKMS_PROTOCOL: { status: 502, meaning: 'a body did not follow the minkms wire protocol (frames, protobuf, headers)' },
  SHR_MINKMS_INVALID_API_KEY: { status: 400, meaning: 'a string is not a valid k1:/k2: API key' },
  SHR_MINKMS_INVALID_CERTIFICATE: { status: 400, meaning: 'a certificate could not be parsed' },
  SHR_MINKMS_INVALID_CONFIG: { status: 400, meaning: 'the client options are invalid (endpoints, timeout)' }
} as const satisfies Catalogue

/** A stable error code of this package. */
export type MinkmsErrorCode = keyof typeof MINKMS_ERROR_CODES

/** Options shared by all MinkmsError constructors. */
export interface MinkmsErrorOptions {
  /** The `host:port` of the endpoint that answered or failed. */
  host?: string
  cause?: unknown
}

/** Base class of every error this package throws. */
export class MinkmsError extends CodedError<MinkmsErrorCode> {
  /** The endpoint involved, when there is one. */
  declare readonly host?: string

  /** `statusCode`: the server's status for server errors; the catalogue's otherwise. */
  constructor (code: MinkmsErrorCode, message: string, statusCode: number = MINKMS_ERROR_CODES[code].status, opts: MinkmsErrorOptions = {}) {
    super(code, statusCode, message, opts.cause === undefined ? undefined : { cause: opts.cause })
    if (opts.host !== undefined) this.host = opts.host
  }
}

/** One predefined minkms server error: the exact status and message the server sends. */
export interface KmsErrorSpec { readonly status: number, readonly message: string, readonly code: MinkmsErrorCode }

/** The predefined minkms errors (minkms.md §4.4). The emulator answers with these verbatim. */
export const KMS_ERRORS = {
  permissionDenied: { status: 403, message: 'access denied: insufficient permissions', code: 'SHR_MINKMS_PERMISSION_DENIED' },
  enclaveExists: { status: 409, message: 'enclave already exists', code: 'SHR_MINKMS_ENCLAVE_EXISTS' },
  enclaveNotFound: { status: 404, message: 'enclave does not exist', code: 'SHR_MINKMS_ENCLAVE_NOT_FOUND' },
  keyExists: { status: 409, message: 'key already exists', code: 'SHR_MINKMS_KEY_EXISTS' },
  keyNotFound: { status: 404, message: 'key does not exist', code: 'SHR_MINKMS_KEY_NOT_FOUND' },
  policyNotFound: { status: 404, message: 'policy does not exist', code: 'SHR_MINKMS_POLICY_NOT_FOUND' },
  identityNotFound: { status: 404, message: 'identity does not exist', code: 'SHR_MINKMS_IDENTITY_NOT_FOUND' },
  invalidCiphertext: { status: 400, message: 'invalid ciphertext', code: 'SHR_MINKMS_INVALID_CIPHERTEXT' }
} as const satisfies Record<string, KmsErrorSpec>

/** Key of a predefined server error in {@link KMS_ERRORS}. */
export type KmsErrorName = keyof typeof KMS_ERRORS

/** A predefined server error; `message` is the server's text, unchanged. */
export abstract class KmsServerError extends MinkmsError {
  constructor (spec: KmsErrorSpec, opts: MinkmsErrorOptions = {}) {
    super(spec.code, spec.message, spec.status, opts)
  }
}

/** 403 `access denied: insufficient permissions`. */
export class PermissionDeniedError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.permissionDenied, opts) }
}
/** 409 `enclave already exists`. */
export class EnclaveExistsError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.enclaveExists, opts) }
}
/** 404 `enclave does not exist`. */
export class EnclaveNotFoundError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.enclaveNotFound, opts) }
}
/** 409 `key already exists`. */
export class KeyExistsError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.keyExists, opts) }
}
/** 404 `key does not exist`. */
export class KeyNotFoundError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.keyNotFound, opts) }
}
/** 404 `policy does not exist`. */
export class PolicyNotFoundError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.policyNotFound, opts) }
}
/** 404 `identity does not exist`. */
export class IdentityNotFoundError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.identityNotFound, opts) }
}
/** 400 `invalid ciphertext`. */
export class InvalidCiphertextError extends KmsServerError {
  constructor (opts?: MinkmsErrorOptions) { super(KMS_ERRORS.invalidCiphertext, opts) }
}

const SERVER_ERROR_CLASSES: Record<KmsErrorName, new (opts?: MinkmsErrorOptions) => KmsServerError> = {
  permissionDenied: PermissionDeniedError,
  enclaveExists: EnclaveExistsError,
  enclaveNotFound: EnclaveNotFoundError,
  keyExists: KeyExistsError,
  keyNotFound: KeyNotFoundError,
  policyNotFound: PolicyNotFoundError,
  identityNotFound: IdentityNotFoundError,
  invalidCiphertext: InvalidCiphertextError
}

/** Any other non-200 answer; `statusCode` is the server's status, `message` its text. */
export class MinkmsRequestError extends MinkmsError {
  constructor (status: number, message: string, opts?: MinkmsErrorOptions) {
    super('SHR_MINKMS_REQUEST_FAILED', message, status, opts)
  }
}

/** A body or header that does not follow the wire protocol. */
export class MinkmsProtocolError extends MinkmsError {
  constructor (message: string, opts?: MinkmsErrorOptions) {
    super('SHR_MINKMS_PROTOCOL', message, 502, opts)
  }
}

/** A string that is not a valid API key. The message says what is wrong and never holds the key. */
export class InvalidApiKeyError extends MinkmsError {
  constructor (message: string, opts?: MinkmsErrorOptions) {
    super('SHR_MINKMS_INVALID_API_KEY', message, 400, opts)
  }
}

/** A certificate that cannot be parsed. */
export class InvalidCertificateError extends MinkmsError {
  constructor (message: string, opts?: MinkmsErrorOptions) {
    super('SHR_MINKMS_INVALID_CERTIFICATE', message, 400, opts)
  }
}

/** Invalid client options. */
export class InvalidClientConfigError extends MinkmsError {
  constructor (message: string, opts?: MinkmsErrorOptions) {
    super('SHR_MINKMS_INVALID_CONFIG', message, 400, opts)
  }
}

/** One endpoint that could not be reached and why. */
export interface EndpointFailure { host: string, cause: unknown }

/**
 * No endpoint answered: connection refused, DNS, TLS verification, timeout. The message names
 * every host with its low-level reason (e.g. `unable to verify the first certificate`), `cause` is
 * that reason (an AggregateError when several hosts failed) and `failures` lists them all.
 */
export class MinkmsUnreachableError extends MinkmsError {
  readonly failures: readonly EndpointFailure[]

  constructor (failures: readonly EndpointFailure[]) {
    const hosts = failures.map(f => f.host)
    const what = failures.map(f => `${f.host}: ${describeCause(f.cause)}`).join('; ')
    const cause = failures.length === 1
      ? failures[0]?.cause
      : new AggregateError(failures.map(f => f.cause), 'all endpoints failed')
    super('SHR_MINKMS_UNREACHABLE', `minkms unreachable: ${what}`, 503, { host: hosts.join(','), cause })
    this.failures = failures
  }
}

/** `message (CODE)` of a low-level error, following `cause` chains down to the socket/TLS error. */
export function describeCause (cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause)
  const code = (cause as { code?: unknown }).code
  const own = typeof code === 'string' ? `${cause.message} (${code})` : cause.message
  // Wrapped failures (an error whose cause is the real socket error) name both.
  if (cause.cause instanceof Error && !own.includes(cause.cause.message)) return `${own}: ${describeCause(cause.cause)}`
  return own
}

/**
 * The typed error for a non-200 answer: a predefined server error when status and message both
 * match one in {@link KMS_ERRORS}, a MinkmsRequestError otherwise.
 */
export function minkmsErrorFrom (status: number, message: string, host?: string): MinkmsError {
  const opts: MinkmsErrorOptions = host === undefined ? {} : { host }
  for (const [name, spec] of Object.entries(KMS_ERRORS) as Array<[KmsErrorName, KmsErrorSpec]>) {
    if (spec.status === status && spec.message === message) return new SERVER_ERROR_CLASSES[name](opts)
  }
  return new MinkmsRequestError(status, message === '' ? `HTTP ${status}` : message, opts)
}

/** True when `err` is a MinkmsError (with the given code, if any). */
export function isMinkmsError (err: unknown, code?: MinkmsErrorCode): err is MinkmsError {
  return err instanceof MinkmsError && (code === undefined || err.code === code)
}

/** True for the server's 403 `access denied: insufficient permissions`. */
export function isPermissionDenied (err: unknown): err is PermissionDeniedError {
  return isMinkmsError(err, 'SHR_MINKMS_PERMISSION_DENIED')
}

/** True for any of the predefined 404 errors (enclave, key, policy, identity). */
export function isNotFound (err: unknown): err is KmsServerError {
  return err instanceof KmsServerError && err.statusCode === 404
}

/**
 * True when a create found its object already there: the predefined 409s (enclave, key), and a
 * 409 whose text says `already exists`. minkms's catalogue has no "identity exists" error, so a
 * duplicate identity comes back as a plain 409 (the emulator says `identity already exists`);
 * idempotent provisioning must treat it like the other two. Any other 409 (a cluster conflict)
 * stays an error.
 */
export function isAlreadyExists (err: unknown): err is MinkmsError {
  if (!(err instanceof MinkmsError) || err.statusCode !== 409) return false
  return err instanceof KmsServerError || /already exists$/i.test(err.message.trim())
}

/** True when no endpoint could be reached. */
export function isUnreachable (err: unknown): err is MinkmsUnreachableError {
  return err instanceof MinkmsUnreachableError
}
