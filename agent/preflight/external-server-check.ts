// The three checks of one external Key Manager server, in order, each timed, each stopping the
// ones after it: tls (connect and handshake, the server certificate verified against the trust
// the node's minkms uses; GET /version needs no identity), auth (KEY:STATUS of the seal/unseal
// key with the API key: a 403 means the key's identity is not Admin of the enclave there), and
// roundTrip (KEY:ENCRYPT then KEY:DECRYPT of random bytes, compared). One client per server and
// no failover: the answer is about that server only. Reasons pass the secret mask with the key.
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import type { MinkmsApi } from '../../shared/minkms/api.js'
import type { MinkmsClientOptions } from '../../shared/minkms/client.js'
import { describeCause, isMinkmsError, isNotFound, isPermissionDenied, isUnreachable } from '../../shared/minkms/errors.js'
import type { ApiKey } from '../../shared/minkms/keys.js'
import type { ExternalServerResult, PreflightCheck } from '../../shared/schemas/preflight.js'
import { redactText } from '../../shared/secrets/redact-text.js'

/** A minkms client as the checks use it. */
export type PreflightClient = Pick<MinkmsApi, 'version' | 'keyStatus' | 'encrypt' | 'decrypt'> & { close: () => Promise<void> }
/** Makes the client of one server (the real one: createMinkmsClient). */
export type PreflightClientFactory = (opts: MinkmsClientOptions) => PreflightClient

/** What one server is checked with. */
export interface ServerCheckInput {
  server: string
  enclave: string
  key: string
  apiKey: ApiKey
  /** The clear API key, only to mask it in reasons. */
  secret: string
  /** CA PEMs; undefined: the system trust store. */
  ca?: string[]
  /** How the trust is named in a TLS reason (`tls.ca '/etc/minkms/certs/CAs'`). */
  trustName: string
  timeoutMs: number
  clientOf: PreflightClientFactory
}

// The server certificate failed verification (Node's and OpenSSL's codes).
const CERT_REFUSED = /^(?:ERR_TLS_CERT_ALTNAME_INVALID|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/
const ROUND_TRIP_AD = Buffer.from('keyroll-preflight')

const skipped = (why: string): PreflightCheck => ({ status: 'skipped', reason: why })

/** Runs the checks of one server; never rejects. */
export async function checkExternalServer (input: ServerCheckInput): Promise<ExternalServerResult> {
  const start = performance.now()
  const mask = (text: string): string => redactText(text, [input.secret])
  const client = input.clientOf({
    endpoints: [input.server],
    apiKey: input.apiKey,
    timeoutMs: input.timeoutMs,
    ...(input.ca === undefined ? {} : { ca: input.ca })
  })
  const result = (tls: PreflightCheck, auth: PreflightCheck, roundTrip: PreflightCheck): ExternalServerResult => ({
    server: input.server,
    ok: tls.status === 'ok' && auth.status === 'ok' && roundTrip.status === 'ok',
    checks: { tls, auth, roundTrip },
    ms: elapsed(start)
  })
  try {
    const tls = await timed(async () => { await client.version() }, (err) => isUnreachable(err) ? mask(tlsReason(err, input.trustName)) : undefined)
    if (tls.status !== 'ok') return result(tls, skipped('the tls check failed'), skipped('the tls check failed'))

    let keyMissing: string | undefined
    const auth = await timed(async () => {
      try {
        await client.keyStatus(input.enclave, input.key)
      } catch (err) {
        // An identity that may ask about the enclave's keys is authenticated and allowed.
        if (isNotFound(err)) { keyMissing = `key '${input.key}' does not exist in enclave '${input.enclave}': ${err.message}`; return }
        throw err
      }
    }, (err) => mask(authReason(err, input)))
    if (auth.status !== 'ok') return result(tls, auth, skipped('the auth check failed'))
    if (keyMissing !== undefined) return result(tls, auth, { status: 'failed', ms: 0, reason: mask(keyMissing) })

    const roundTrip = await timed(async () => {
      const plaintext = randomBytes(32)
      const sealed = await client.encrypt(input.enclave, input.key, plaintext, { associatedData: ROUND_TRIP_AD })
      const opened = await client.decrypt(input.enclave, input.key, sealed.ciphertext, { version: sealed.version, associatedData: ROUND_TRIP_AD })
      if (!Buffer.from(opened).equals(plaintext)) throw new Error('decrypt returned another plaintext than was encrypted')
    }, (err) => mask(`encrypt/decrypt with key '${input.key}': ${reasonOf(err)}`))
    return result(tls, auth, roundTrip)
  } finally {
    await client.close().catch(() => undefined)
  }
}

/** Runs `fn`, timing it; a failure becomes `failed` with `reason(err)` (or the error's own text). */
async function timed (fn: () => Promise<void>, reason: (err: unknown) => string | undefined): Promise<PreflightCheck> {
  const start = performance.now()
  try {
    await fn()
    return { status: 'ok', ms: elapsed(start) }
  } catch (err) {
    return { status: 'failed', ms: elapsed(start), reason: reason(err) ?? `the server answered: ${reasonOf(err)}` }
  }
}

function tlsReason (err: unknown, trustName: string): string {
  const cause = (err as { cause?: unknown }).cause
  if (codesIn(cause).some((c) => CERT_REFUSED.test(c))) return `TLS: the server certificate is not trusted (verified against ${trustName}): ${describeCause(cause)}`
  return `unreachable: ${describeCause(cause ?? err)}`
}

function authReason (err: unknown, input: ServerCheckInput): string {
  if (isPermissionDenied(err)) return `the server refused the API key (identity ${input.apiKey.identity}) for key '${input.key}' in enclave '${input.enclave}': ${err.message}; the identity must be Admin of that enclave there`
  if (isUnreachable(err)) return `unreachable during the check: ${describeCause(err.cause ?? err)}`
  return `the server answered: ${reasonOf(err)}`
}

function reasonOf (err: unknown): string {
  if (isUnreachable(err)) return `unreachable: ${describeCause(err.cause ?? err)}`
  if (isMinkmsError(err)) return `${err.message} (HTTP ${err.statusCode})`
  return err instanceof Error ? err.message : String(err)
}

/** Every string `code` down a cause chain. */
function codesIn (err: unknown): string[] {
  const codes: string[] = []
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') codes.push(code)
  }
  return codes
}

function elapsed (start: number): number {
  return Math.round((performance.now() - start) * 10) / 10
}
