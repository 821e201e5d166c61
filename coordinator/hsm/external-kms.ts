// How the migration reaches the external Key Manager with the operator's admin key: provisioning
// (provision.ts) and, for a dry run, the same lookups without a write. The real access makes a
// minkms client per call (provisionExternalHsmAt); tests pass an in-memory MinkmsApi.
import type { MinkmsApi } from '../../shared/minkms/api.js'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { isMinkmsError, isNotFound } from '../../shared/minkms/errors.js'
import { parseApiKey } from '../../shared/minkms/keys.js'
import { reveal, type Secret } from '../../shared/secrets/secret.js'
import { provisionExternalHsm, provisionExternalHsmAt, type ProvisionRequest, type ProvisionResult } from './provision.js'
import { HsmAdminKeyRefusedError, provisionErrorOf, type ProvisionContext } from './provision-errors.js'

/** What a dry run says provisioning would do. */
export interface ProvisionPreview { enclave: 'create' | 'found', identity: 'create' | 'found', key: 'create' | 'found' }

/** Where the external Key Manager is and the admin key to use. */
export interface ExternalKmsCall { servers: readonly string[], adminKey: Secret }

/** The external Key Manager as the migration uses it. */
export interface ExternalKmsAccess {
  provision (cluster: string, at: ExternalKmsCall, req: ProvisionRequest): Promise<ProvisionResult>
  /** Reads only: would provisioning create or find each object (the identity: a dry run has no key yet, so `create`). */
  preview (cluster: string, at: ExternalKmsCall, req: { enclave: string, key: string }): Promise<ProvisionPreview>
}

/** The real access: a client per call, trusting `caOf(cluster)` (PEM) for the servers' certificates. */
export function externalKmsAt (caOf: (cluster: string) => string | Buffer | undefined, timeoutMs?: number): ExternalKmsAccess {
  const target = (cluster: string, at: ExternalKmsCall): { servers: readonly string[], adminKey: Secret, ca?: string | Buffer, timeoutMs?: number } => {
    const ca = caOf(cluster)
    return { servers: at.servers, adminKey: at.adminKey, ...(ca === undefined ? {} : { ca }), ...(timeoutMs === undefined ? {} : { timeoutMs }) }
  }
  return {
    provision: async (cluster, at, req) => await provisionExternalHsmAt(target(cluster, at), req),
    preview: async (cluster, at, req) => {
      const t = target(cluster, at)
      const ctx = contextOf(at)
      const client = createMinkmsClient({ endpoints: [...t.servers], apiKey: reveal(at.adminKey), ...(t.ca === undefined ? {} : { ca: t.ca }), ...(t.timeoutMs === undefined ? {} : { timeoutMs: t.timeoutMs }) })
      try {
        return await previewOn(client, req, ctx)
      } finally {
        await client.close()
      }
    }
  }
}

/** Access over one MinkmsApi (tests, or a caller holding a client already). */
export function externalKmsOver (api: MinkmsApi): ExternalKmsAccess {
  return {
    provision: async (_cluster, at, req) => {
      const ctx = contextOf(at)
      return await provisionExternalHsm(api, req, { where: ctx.where, ...(ctx.adminIdentity === undefined ? {} : { adminIdentity: ctx.adminIdentity }), secrets: [at.adminKey] })
    },
    preview: async (_cluster, at, req) => await previewOn(api, req, contextOf(at))
  }
}

function contextOf (at: ExternalKmsCall): ProvisionContext {
  const where = at.servers.join(', ')
  try {
    return { where, adminIdentity: parseApiKey(at.adminKey.reveal()).identity, secrets: [at.adminKey], created: [] }
  } catch (err) {
    const why = isMinkmsError(err) ? err.message : 'it cannot be parsed'
    throw new HsmAdminKeyRefusedError(`the admin API key is not a k1:/k2: API key (${why})`, { where, secrets: [at.adminKey], created: [] }, err)
  }
}

async function previewOn (api: MinkmsApi, req: { enclave: string, key: string }, ctx: ProvisionContext): Promise<ProvisionPreview> {
  const exists = async (step: 'enclave status' | 'key status', run: () => Promise<unknown>): Promise<boolean> => {
    try {
      await run()
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw provisionErrorOf(step, err, ctx)
    }
  }
  // ENCLAVE:STATUS first, as provisioning does: only root may run it, so a wrong key stops here.
  const enclave = await exists('enclave status', async () => await api.enclaveStatus(req.enclave))
  const key = enclave && await exists('key status', async () => await api.keyStatus(req.enclave, req.key))
  return { enclave: enclave ? 'found' : 'create', identity: 'create', key: key ? 'found' : 'create' }
}
