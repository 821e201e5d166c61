// The emulator-private node-to-node endpoints under /v1/rpc/ (JSON; root identity only, i.e. a
// node that shares this node's HSM-derived root key). With the `refuse-peers` fault every one of
// them answers 503, so the other members see this node as down.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isRoot } from './authz.js'
import { readBody, send } from './http-io.js'
import { dispatchKms } from './kms-dispatch.js'
import { badRequest, kmsError, KmsHttpError, unavailable } from './kms-error.js'
import type { EmulatorNode } from './node.js'
import { isForwardRequest, isHsmRequest, isJoinRequest, isMembersRequest, isReplicaMessage, type ForwardReply, type PeerStatus } from './rpc-types.js'

/** What a node with the `refuse-peers` fault answers on /v1/rpc/* (emulator choice). */
export const REFUSE_PEERS_MESSAGE = 'internode calls are refused (fault refuse-peers)'

async function jsonBody (req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw badRequest('request body is not JSON')
  }
}

function sendJson (res: ServerResponse, value: unknown): void {
  send(res, 200, JSON.stringify(value), 'application/json')
}

/** Runs a write another member forwarded; its refusal travels back as a ForwardReply, not as an RPC failure. */
async function forwarded (node: EmulatorNode, body: unknown): Promise<ForwardReply> {
  if (!isForwardRequest(body)) throw badRequest('malformed forwarded request')
  try {
    const answer = await dispatchKms(node, body.caller, body.enclave, Buffer.from(body.body, 'base64'), { forwarded: true })
    return { status: 200, body: answer.toString('base64') }
  } catch (err) {
    if (err instanceof KmsHttpError) return { status: err.status, message: err.message }
    throw err
  }
}

/** Handles /v1/rpc/{status,join,members,hsm,replicate,state,forward}. `localStatus` is this node's own status. */
export async function handleRpc (node: EmulatorNode, caller: string | undefined, req: IncomingMessage, res: ServerResponse,
  path: string, localStatus: () => Promise<PeerStatus>): Promise<void> {
  if (node.refusesPeers) throw unavailable(REFUSE_PEERS_MESSAGE)
  if (!isRoot(node, caller)) throw kmsError('permissionDenied')
  const route = `${req.method ?? ''} ${path}`
  switch (route) {
    case 'GET /v1/rpc/status':
      sendJson(res, await localStatus())
      return
    case 'POST /v1/rpc/join': {
      const body = await jsonBody(req)
      if (!isJoinRequest(body)) throw badRequest('malformed join request')
      await node.cluster.acceptJoin(body)
      sendJson(res, {})
      return
    }
    case 'POST /v1/rpc/members': {
      const body = await jsonBody(req)
      if (!isMembersRequest(body)) throw badRequest('malformed member list')
      await node.cluster.acceptMembers(body)
      sendJson(res, {})
      return
    }
    case 'POST /v1/rpc/hsm': {
      const body = await jsonBody(req)
      if (!isHsmRequest(body)) throw badRequest('malformed HSM request')
      if (body.op === 'add') await node.hsms.add(body.name, body.overwrite, body.dryRun)
      else await node.hsms.remove(body.name, body.dryRun)
      sendJson(res, {})
      return
    }
    case 'POST /v1/rpc/replicate': {
      const body = await jsonBody(req)
      if (!isReplicaMessage(body)) throw badRequest('malformed replica')
      await node.replication.acceptReplica(body)
      sendJson(res, {})
      return
    }
    case 'GET /v1/rpc/state':
      sendJson(res, node.replication.replica())
      return
    case 'POST /v1/rpc/forward':
      sendJson(res, await forwarded(node, await jsonBody(req)))
      return
    default:
      throw new KmsHttpError(404, `no such RPC: ${route}`)
  }
}
