// The external Key Manager preflight of one node: reads the trust the node's minkms would use,
// then checks every listed server from here, all at once (each on its own client), and answers
// per server. Nothing is written and minkms is not touched: it runs before the HSM migration does
// anything. The API key arrives as a Secret or plain string and goes no further than the TLS
// client certificate made from it; no answer or log holds it.
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { parseApiKey } from '../../shared/minkms/keys.js'
import type { ExternalKmsPreflightRequest, ExternalKmsPreflightResult, ExternalServerResult, PreflightTrust } from '../../shared/schemas/preflight.js'
import { checkExternalServer, type PreflightClientFactory } from './external-server-check.js'
import { readMinkmsTrust, type MinkmsTrust } from './minkms-trust.js'

/** Default per-request timeout of the checks, ms. */
export const DEFAULT_PREFLIGHT_TIMEOUT_MS = 5_000

/** What the route asks of the preflight (a port: tests of the route use a fake). */
export interface ExternalKmsPreflightPort {
  run (req: ExternalKmsPreflightRequest): Promise<ExternalKmsPreflightResult>
}

/** Options of {@link ExternalKmsPreflight}. */
export interface ExternalKmsPreflightOptions {
  /** This node's name, as answered. */
  node: string
  /** The minkms config this agent manages: where `tls.ca` is read from. */
  configPath: string
  /** Makes a server's client (default createMinkmsClient). */
  clientOf?: PreflightClientFactory
  /** Reads the trust (default readMinkmsTrust). */
  readTrust?: (configPath: string) => Promise<MinkmsTrust>
}

/** The real preflight. */
export class ExternalKmsPreflight implements ExternalKmsPreflightPort {
  readonly #opts: ExternalKmsPreflightOptions

  constructor (opts: ExternalKmsPreflightOptions) {
    this.#opts = opts
  }

  /** Rejects only for a malformed API key (SHR_MINKMS_INVALID_API_KEY, 400; the message never holds it). */
  async run (req: ExternalKmsPreflightRequest): Promise<ExternalKmsPreflightResult> {
    const secret = typeof req.apiKey === 'string' ? req.apiKey : req.apiKey.$secret
    const apiKey = parseApiKey(secret)
    const trust = await (this.#opts.readTrust ?? readMinkmsTrust)(this.#opts.configPath)
    const timeoutMs = req.timeoutMs ?? DEFAULT_PREFLIGHT_TIMEOUT_MS
    const clientOf = this.#opts.clientOf ?? createMinkmsClient
    const servers = await Promise.all(req.servers.map(async (server): Promise<ExternalServerResult> => {
      if ('error' in trust) return untrusted(server, trust.error)
      return await checkExternalServer({
        server,
        enclave: req.enclave,
        key: req.key,
        apiKey,
        secret,
        ...(trust.source === 'tls.ca' ? { ca: trust.ca } : {}),
        trustName: trust.source === 'tls.ca' ? `tls.ca '${trust.path}'` : 'the system trust store',
        timeoutMs,
        clientOf
      })
    }))
    const reachable = servers.filter((s) => s.ok).length
    return { node: this.#opts.node, ok: reachable === servers.length, reachable, trust: trustView(trust), servers }
  }
}

function untrusted (server: string, why: string): ExternalServerResult {
  const skipped = { status: 'skipped' as const, reason: 'the tls check failed' }
  return { server, ok: false, checks: { tls: { status: 'failed', ms: 0, reason: why }, auth: skipped, roundTrip: skipped }, ms: 0 }
}

function trustView (trust: MinkmsTrust): PreflightTrust {
  return {
    source: trust.source,
    ...('path' in trust && trust.path !== undefined ? { path: trust.path } : {}),
    ...('error' in trust ? { error: trust.error } : {})
  }
}
