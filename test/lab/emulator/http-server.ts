// The node's HTTPS server (node:https): mutual TLS where the client certificate is requested but
// not verified against a CA; the caller is the `h1:` identity of its certificate's public key,
// as with minkms. Routes: /version, /v1/health/{live,ready}, /v1/kms/{enclave},
// and the emulator's /v1/rpc/*.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { identityOfCertificate } from '../../../shared/minkms/keys.js'
import { encodeMessage } from '../../../shared/minkms/messages.js'
import { describeError } from './fatal-error.js'
import { prefersJson, readBody, send, sendEmpty, sendError } from './http-io.js'
import { dispatchKms } from './kms-dispatch.js'
import { KmsHttpError } from './kms-error.js'
import type { EmulatorNode } from './node.js'
import { handleRpc } from './rpc-routes.js'
import type { PeerStatus } from './rpc-types.js'
import type { TlsMaterial } from './tls-files.js'
import { commandName } from '../../../shared/minkms/commands.js'
import { API_VERSION, EMULATOR_COMMIT, EMULATOR_VERSION } from './version.js'

/** One answered /v1/kms request, for test observers. */
export interface CommandEvent {
  /** Text name of the request's (first) command, e.g. `KEY:ENCRYPT`. */
  command: string
  enclave: string
  caller: string | undefined
  status: number
}

/** Optional observers (tests use them to see what a node was asked). */
export interface ServerHooks {
  onCommand?: (e: CommandEvent) => void
}

/** The caller's identity, or undefined when it sent no client certificate. */
export function callerIdentity (req: IncomingMessage): string | undefined {
  const cert = (req.socket as TLSSocket).getPeerX509Certificate?.()
  if (cert === undefined) return undefined
  try {
    return identityOfCertificate(cert)
  } catch {
    return undefined
  }
}

function sendVersion (node: EmulatorNode, req: IncomingMessage, res: ServerResponse): void {
  if (prefersJson(req.headers.accept)) {
    send(res, 200, JSON.stringify({ version: EMULATOR_VERSION, commit: EMULATOR_COMMIT, api_version: API_VERSION, host: node.host, fips140: false }), 'application/json')
    return
  }
  send(res, 200, encodeMessage('VersionResponse', {
    version: EMULATOR_VERSION, commit: EMULATOR_COMMIT, apiVersion: API_VERSION, host: node.host, fips140: false
  }), 'application/octet-stream')
}

async function route (node: EmulatorNode, req: IncomingMessage, res: ServerResponse, localStatus: () => Promise<PeerStatus>,
  hooks: ServerHooks): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://emulator.invalid')
  const path = url.pathname
  const method = req.method ?? 'GET'
  const isGet = method === 'GET' || method === 'HEAD'
  if (path === '/version' && isGet) { sendVersion(node, req, res); return }
  if (path === '/v1/health/live' && isGet) { sendEmpty(res, 200); return }
  if (path === '/v1/health/ready' && isGet) {
    let ok = node.isReady()
    if (ok && url.searchParams.has('write')) ok = await node.cluster.allMembersUp()
    sendEmpty(res, ok ? 200 : 503)
    return
  }
  const kms = /^\/v1\/kms(?:\/([^/]*))?$/.exec(path)
  if (kms !== null) {
    if (method !== 'POST') throw new KmsHttpError(405, `method ${method} not allowed on ${path}`)
    let enclave: string
    try {
      enclave = decodeURIComponent(kms[1] ?? '')
    } catch {
      throw new KmsHttpError(400, 'invalid enclave name in the URL path')
    }
    const body = await readBody(req)
    const caller = callerIdentity(req)
    const event = (status: number): CommandEvent => ({ command: body.length >= 2 ? commandName(body.readUInt16BE(0)) : '', enclave, caller, status })
    // One audit line per request (as minkms's audit log has): tests read the journal to see
    // which commands a node served, e.g. the external Key Manager's KEY:ENCRYPT/DECRYPT.
    const observe = (status: number): void => {
      const e = event(status)
      node.log.info(`audit ${e.command || '-'} enclave=${e.enclave || '-'} identity=${e.caller ?? '-'} status=${status}`)
      hooks.onCommand?.(e)
    }
    let answer: Buffer
    try {
      answer = await dispatchKms(node, caller, enclave, body)
    } catch (err) {
      observe(err instanceof KmsHttpError ? err.status : 500)
      throw err
    }
    observe(200)
    send(res, 200, answer, 'application/octet-stream')
    return
  }
  if (path.startsWith('/v1/rpc/')) {
    await handleRpc(node, callerIdentity(req), req, res, path, localStatus)
    return
  }
  throw new KmsHttpError(404, `not found: ${method} ${path}`)
}

/** Creates (does not start) the server. `localStatus` feeds /v1/rpc/status. */
export function createKmsServer (node: EmulatorNode, tls: TlsMaterial, localStatus: () => Promise<PeerStatus>, hooks: ServerHooks = {}): Server {
  const server = createServer({
    key: tls.keys,
    cert: tls.certs,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2'
  }, (req, res) => {
    route(node, req, res, localStatus, hooks).catch((err: unknown) => {
      if (res.headersSent) { res.destroy(); return }
      if (err instanceof KmsHttpError) {
        sendError(req, res, err.status, err.message)
        return
      }
      node.log.error(`internal error serving ${req.method ?? ''} ${req.url ?? ''}: ${describeError(err)}`)
      sendError(req, res, 500, 'internal server error')
    })
  })
  // Probes and peers open many short connections; do not keep idle ones around for long.
  server.keepAliveTimeout = 5_000
  server.on('tlsClientError', () => {})
  return server
}
