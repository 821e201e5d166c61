// The node's public `host:port` (`--host`): given, or derived from the listen address the way
// minkms does (the first unicast IP plus the port, or 127.0.0.1 when there is none).
import { networkInterfaces } from 'node:os'

function isUnspecified (ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '[::]' || ip === ''
}

function firstUnicastIpv4 (): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address
    }
  }
  return undefined
}

/** Splits a normalised `IP:PORT` / `[IPv6]:PORT` listen address. */
export function splitAddress (address: string): { ip: string, port: number } {
  const i = address.lastIndexOf(':')
  const ip = address.slice(0, i).replace(/^\[(.*)\]$/, '$1')
  return { ip, port: Number(address.slice(i + 1)) }
}

/** `--host` with the listening port added when it has none, or the derived default. */
export function publicHost (hostFlag: string | undefined, listenIp: string, port: number): string {
  if (hostFlag !== undefined) return /:\d+$/.test(hostFlag) && !/^[^[]*:.*:/.test(hostFlag) ? hostFlag : `${hostFlag}:${port}`
  if (!isUnspecified(listenIp)) return `${listenIp.includes(':') ? `[${listenIp}]` : listenIp}:${port}`
  return `${firstUnicastIpv4() ?? '127.0.0.1'}:${port}`
}
