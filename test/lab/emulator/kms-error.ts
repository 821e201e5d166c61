// Errors a request handler throws to answer with a non-200 status. The predefined minkms errors
// come from shared/minkms's KMS_ERRORS table verbatim, so the client's errors.Is-style matching
// works against the emulator exactly as against minkms.
import { KMS_ERRORS, type KmsErrorName } from '../../../shared/minkms/errors.js'

/** A non-200 answer: HTTP status and the message sent as ErrResponse / JSON. */
export class KmsHttpError extends Error {
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.name = 'KmsHttpError'
    this.status = status
  }
}

/** One of the predefined minkms errors (exact status and message). */
export function kmsError (name: KmsErrorName): KmsHttpError {
  return new KmsHttpError(KMS_ERRORS[name].status, KMS_ERRORS[name].message)
}

/** 400 with our own message. */
export function badRequest (message: string): KmsHttpError {
  return new KmsHttpError(400, message)
}

/** 409 with our own message. */
export function conflict (message: string): KmsHttpError {
  return new KmsHttpError(409, message)
}

/** 503: the cluster cannot do this now (a member is down). */
export function unavailable (message: string): KmsHttpError {
  return new KmsHttpError(503, message)
}

/** 502: a call to another server (node or external HSM) failed. */
export function badGateway (message: string): KmsHttpError {
  return new KmsHttpError(502, message)
}
