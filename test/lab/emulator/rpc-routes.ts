// The emulator-private node-to-node endpoints under /v1/rpc/ (JSON; root identity only, i.e. a
// node that shares this node's HSM-derived root key).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isRoot } from './authz.js'
import { readBody, send } from './http-io.js'
import { badRequest, kmsError, KmsHttpError } from './kms-error.js'
import type { EmulatorNode } from './node.js'
import { isHsmRequest, isJoinRequest, isMembersRequest, type PeerStatus } from './rpc-types.js'

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

/** Handles /v1/rpc/{status,join,members,hsm}. `localStatus` is this node's own status. */
export async function handleRpc (node: EmulatorNode, caller: string | undefined, req: IncomingMessage, res: ServerResponse,
  path: string, localStatus: () => Promise<PeerStatus>): Promise<void> {
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
    default:
      throw new KmsHttpError(404, `no such RPC: ${route}`)
  }
}
