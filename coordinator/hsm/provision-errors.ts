// How provisioning the external Key Manager fails, as the operator must read it: the admin key is
// wrong (what to give instead), no server answered (each server and why), or a step was answered
// with an error (which step, and what to fix). Messages pass the secret mask with the keys in play:
// a server's text is not ours to trust, and neither key may ever reach a log or a response.
import { describeCause, isPermissionDenied, isUnreachable, type MinkmsError } from '../../shared/minkms/errors.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { Secret } from '../../shared/secrets/secret.js'
import { CoordinatorError } from '../errors.js'

/** A provisioning step, named in messages. */
export type ProvisionStep = 'enclave status' | 'enclave create' | 'identity status' | 'identity create' | 'key status' | 'key create'

/** Where the error happened and what must not show. */
export interface ProvisionContext {
  /** The external Key Manager as the operator named it (`kms0:7373, kms1:7373`). */
  where: string
  /** `h1:` identity of the admin key (not a secret: it helps the operator find the key). */
  adminIdentity?: string
  /** Every secret in play: the admin key, the generated key. */
  secrets: ReadonlyArray<Secret | string>
  /** What was created before the failure ("nothing" when empty). */
  created: readonly string[]
}

function mask (text: string, ctx: ProvisionContext): string {
  return redactText(text, ctx.secrets)
}

function kms (ctx: ProvisionContext): string {
  return ctx.where === '' ? 'the external Key Manager' : `the external Key Manager (${ctx.where})`
}

function createdSoFar (ctx: ProvisionContext): string {
  return ctx.created.length === 0 ? 'nothing was created' : `created so far: ${ctx.created.join(', ')}`
}

/** The admin API key is malformed or refused. */
export class HsmAdminKeyRefusedError extends CoordinatorError {
  constructor (detail: string, ctx: ProvisionContext, cause?: unknown) {
    super('CRD_HSM_ADMIN_KEY_REFUSED', mask(`${detail}; give a root/SysAdmin API key of ${kms(ctx)} (the admin key file); ${createdSoFar(ctx)}`, ctx), cause === undefined ? undefined : { cause })
  }
}

/** No server of the external Key Manager could be reached. */
export class HsmExternalUnreachableError extends CoordinatorError {
  constructor (step: ProvisionStep, ctx: ProvisionContext, cause: unknown) {
    super('CRD_HSM_EXTERNAL_UNREACHABLE', mask(`${step}: ${kms(ctx)} is unreachable: ${describeCause(cause)}; check the server list, the network and the CA; ${createdSoFar(ctx)}`, ctx), { cause })
  }
}

/** A step answered with an error, or found something it cannot use. */
export class HsmProvisionFailedError extends CoordinatorError {
  constructor (step: ProvisionStep, detail: string, ctx: ProvisionContext, cause?: unknown) {
    super('CRD_HSM_PROVISION_FAILED', mask(`${step} on ${kms(ctx)}: ${detail}; ${createdSoFar(ctx)}`, ctx), cause === undefined ? undefined : { cause })
  }
}

/** The coded error for a minkms client error raised by `step`. */
export function provisionErrorOf (step: ProvisionStep, err: unknown, ctx: ProvisionContext): CoordinatorError {
  if (err instanceof CoordinatorError) return err
  if (isUnreachable(err)) return new HsmExternalUnreachableError(step, ctx, err)
  if (isPermissionDenied(err)) {
    const who = ctx.adminIdentity === undefined ? 'the admin API key' : `the admin API key (identity ${ctx.adminIdentity})`
    return new HsmAdminKeyRefusedError(`${step}: ${kms(ctx)} refused ${who}: ${(err as MinkmsError).message}`, ctx, err)
  }
  const text = err instanceof Error ? err.message : String(err)
  return new HsmProvisionFailedError(step, text, ctx, err)
}
