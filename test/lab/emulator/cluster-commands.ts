// CLUSTER:STATUS / ADDNODE / ADDHSM / REMOVEHSM (root only).
import { Command } from '../../../shared/minkms/commands.js'
import { decodeRequest, encodeResponseFrame } from '../../../shared/minkms/command-messages.js'
import type { ServerStatusResponse } from '../../../shared/minkms/message-types.js'
import { durationFromMs, type MessageInput } from '../../../shared/minkms/messages.js'
import { arch, availableParallelism, cpus, platform } from 'node:os'
import type { CommandHandler } from './command-handler.js'
import { badRequest } from './kms-error.js'
import type { PeerStatus } from './rpc-types.js'

/** ServerStatusResponse of one up member, with the leader as this node sees it. */
export function serverStatusMessage (s: PeerStatus, leaderId: number): MessageInput<ServerStatusResponse> {
  const mem = process.memoryUsage()
  return {
    version: s.version,
    apiVersion: s.apiVersion,
    host: s.host,
    upTime: durationFromMs(s.upTimeMs),
    role: s.id === leaderId ? 'Leader' : 'Follower',
    commit: s.revision,
    nodes: Object.fromEntries(Object.entries(s.nodes).map(([k, v]) => [Number(k), v])),
    id: s.id,
    leaderId,
    os: platform(),
    arch: arch(),
    cpus: cpus().length,
    usableCpus: availableParallelism(),
    heapMemInUse: mem.heapUsed,
    stackMemInUse: 0,
    hsms: s.hsms,
    configuredHsms: s.configuredHsms
  }
}

export const clusterStatus: CommandHandler = async (ctx, payload) => {
  decodeRequest(Command.ClusterStatus, payload)
  const statuses = await ctx.node.cluster.memberStatuses()
  const info = ctx.node.cluster.info
  const up = [...statuses].filter((e): e is [number, PeerStatus] => e[1] !== undefined)
  // The emulator has no elections: the lowest id that answers leads.
  const leaderId = Math.min(...up.map(([id]) => id))
  const nodesUp: Record<number, MessageInput<ServerStatusResponse>> = {}
  const nodesDown: Record<number, string> = {}
  for (const [id, s] of statuses) {
    if (s === undefined) nodesDown[id] = info.nodes[id] ?? ''
    else nodesUp[id] = serverStatusMessage(s, leaderId)
  }
  return encodeResponseFrame(Command.ClusterStatus, { nodesUp, nodesDown })
}

export const addNode: CommandHandler = async (ctx, payload) => {
  const { host } = decodeRequest(Command.ClusterAddNode, payload)
  if (host === '') throw badRequest('CLUSTER:ADDNODE needs a Host')
  await ctx.node.cluster.addNode(host)
  return undefined
}

export const addHsm: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.ClusterAddHsm, payload)
  if (req.name === '') throw badRequest('CLUSTER:ADDHSM needs a Name')
  await ctx.node.cluster.hsmCommand('add', req.name, req.overwrite)
  return undefined
}

export const removeHsm: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.ClusterRemoveHsm, payload)
  if (req.name === '') throw badRequest('CLUSTER:REMOVEHSM needs a Name')
  await ctx.node.cluster.hsmCommand('remove', req.name, false)
  return undefined
}
