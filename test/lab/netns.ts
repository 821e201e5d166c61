// The lab network: one bridge per lab on the host (`krl<id>br`, 10.77.<id>.1/24) and, per node,
// a network namespace (`krl<id>-<node>`) holding `eth0`, the peer of a veth (`krl<id>v<k>`)
// enslaved to the bridge. nspawn joins the namespace (--network-namespace-path). The host has
// ip_forward=0, so traffic stays between the host and the lab's own nodes.
import { readdirSync } from 'node:fs'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import type { LabLayout, NodePlan } from './lab-paths.js'

const IP = 'ip'
const TIMEOUT_MS = 10_000
const NETNS_DIR = '/run/netns'

async function ip (args: string[], runner: ProcessRunner): Promise<void> {
  await runner.run(IP, args, { timeoutMs: TIMEOUT_MS })
}

/** Creates the lab's bridge with the host address `gateway/24`. */
export async function createBridge (layout: LabLayout, runner: ProcessRunner = processRunner): Promise<void> {
  await ip(['link', 'add', layout.bridge, 'type', 'bridge'], runner)
  await ip(['addr', 'add', `${layout.gateway}/24`, 'dev', layout.bridge], runner)
  await ip(['link', 'set', layout.bridge, 'up'], runner)
}

/** Creates the node's namespace and veth pair and gives `eth0` the node's address. */
export async function createNodeNetwork (layout: LabLayout, node: NodePlan, runner: ProcessRunner = processRunner): Promise<void> {
  await ip(['netns', 'add', node.netns], runner)
  await ip(['link', 'add', node.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns], runner)
  await ip(['link', 'set', node.veth, 'master', layout.bridge, 'up'], runner)
  await ip(['-n', node.netns, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0'], runner)
  await ip(['-n', node.netns, 'link', 'set', 'eth0', 'up'], runner)
  await ip(['-n', node.netns, 'link', 'set', 'lo', 'up'], runner)
}

/** Path of a namespace for nspawn's --network-namespace-path. */
export function netnsPath (name: string): string {
  return `${NETNS_DIR}/${name}`
}

/** Names of the host's network interfaces. */
export async function linkNames (runner: ProcessRunner = processRunner): Promise<string[]> {
  const { stdout } = await runner.run(IP, ['-o', 'link', 'show'], { timeoutMs: TIMEOUT_MS })
  // `3: krl3v1@if2: <...` → krl3v1
  return stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
}

/** Names of the named network namespaces. */
export function netnsNames (): string[] {
  try {
    return readdirSync(NETNS_DIR)
  } catch {
    return []
  }
}

/** The lab's interfaces and namespaces that exist now. */
export async function labNetworkObjects (layout: LabLayout, runner: ProcessRunner = processRunner): Promise<{ links: string[], netns: string[] }> {
  const veth = new RegExp(`^${layout.vethPrefix}\\d+$`)
  const links = (await linkNames(runner)).filter((n) => n === layout.bridge || veth.test(n))
  return { links, netns: netnsNames().filter((n) => n.startsWith(layout.netnsPrefix)) }
}

/**
 * Deletes every veth, namespace and the bridge of the lab, found by name (so it also cleans up
 * after a run that crashed before writing its state). Throws if something could not be deleted.
 */
export async function deleteLabNetwork (layout: LabLayout, runner: ProcessRunner = processRunner): Promise<void> {
  const { links, netns } = await labNetworkObjects(layout, runner)
  // veths before namespaces: deleting a veth removes its peer at once, while a deleted namespace
  // releases its interfaces asynchronously. The bridge goes last. Failures are judged by what is
  // left afterwards, not per command.
  for (const l of links.sort((a, b) => Number(a === layout.bridge) - Number(b === layout.bridge))) {
    await ip(['link', 'del', l], runner).catch(() => {})
  }
  for (const n of netns) await ip(['netns', 'del', n], runner).catch(() => {})
  const left = await labNetworkObjects(layout, runner)
  if (left.links.length + left.netns.length > 0) {
    throw new Error(`lab ${layout.id}: could not delete ${[...left.links, ...left.netns].join(', ')}`)
  }
}

/** Lab ids that have a bridge, veth or namespace on this host. */
export async function networkLabIds (runner: ProcessRunner = processRunner): Promise<number[]> {
  const ids = new Set<number>()
  for (const n of [...await linkNames(runner), ...netnsNames()]) {
    const m = /^krl(\d+)(?:br$|v\d+$|-)/.exec(n)
    if (m?.[1] !== undefined) ids.add(Number(m[1]))
  }
  return [...ids]
}
