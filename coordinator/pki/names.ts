// The names and addresses a certificate is issued for, checked before anything is generated:
// `NODE=ADDR[,ADDR…]` for an agent, where each ADDR is an IP address or a DNS name.
import { isIP } from 'node:net'
import { PkiError } from './errors.js'

// The same rule as a node's `name` in the coordinator config: it is the node's name everywhere.
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/

/** A certificate's subject alternative names. */
export interface SubjectNames { ips: string[], dns: string[] }

/** An agent to issue certificates for. */
export interface AgentSpec extends SubjectNames { node: string }

/** Checks a node name (also the CN of its client certificate). */
export function checkNodeName (node: string, what = 'node name'): string {
  if (!NODE_NAME.test(node)) throw new PkiError('CRD_PKI_INVALID_INPUT', `${what} "${node}" is not valid: use letters, digits, ".", "_" and "-", starting with a letter or digit`)
  return node
}

function isDnsName (s: string): boolean {
  return s.length <= 253 && s.split('.').every(l => DNS_LABEL.test(l))
}

/** Sorts addresses into IPs and DNS names; refuses anything that is neither. */
export function subjectNames (addresses: readonly string[], what: string): SubjectNames {
  const out: SubjectNames = { ips: [], dns: [] }
  for (const raw of addresses) {
    const a = raw.trim().replace(/^\[|\]$/g, '')
    if (a === '') continue
    if (isIP(a) !== 0) out.ips.push(a)
    else if (isDnsName(a)) out.dns.push(a.toLowerCase())
    else throw new PkiError('CRD_PKI_INVALID_INPUT', `${what}: "${raw}" is neither an IP address nor a DNS name`)
  }
  return { ips: [...new Set(out.ips)], dns: [...new Set(out.dns)] }
}

/**
 * Parses `NODE=ADDR[,ADDR…]`. The node name is added as a DNS name too, so an agent URL may use
 * either its address or its name.
 */
export function parseAgentSpec (spec: string): AgentSpec {
  const eq = spec.indexOf('=')
  if (eq <= 0 || eq === spec.length - 1) throw new PkiError('CRD_PKI_INVALID_INPUT', `agent "${spec}": write it as NODE=IP (several addresses separated by commas, e.g. node1=10.0.0.11,node1.example.net)`)
  const node = checkNodeName(spec.slice(0, eq), `agent "${spec}": node name`)
  const names = subjectNames(spec.slice(eq + 1).split(','), `agent ${node}`)
  if (names.ips.length === 0 && names.dns.length === 0) throw new PkiError('CRD_PKI_INVALID_INPUT', `agent ${node}: no address given`)
  const dns = isDnsName(node) && !names.dns.includes(node.toLowerCase()) ? [...names.dns, node.toLowerCase()] : names.dns
  return { node, ips: names.ips, dns }
}

/** The names of a certificate as node:crypto shows them (`DNS:a, IP Address:10.0.0.1`). */
export function namesOfSubjectAltName (san: string | undefined): SubjectNames {
  const out: SubjectNames = { ips: [], dns: [] }
  for (const part of (san ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) out.dns.push(part.slice(4))
    else if (part.startsWith('IP Address:')) out.ips.push(part.slice(11))
  }
  return out
}

/** Whether two sets of names are the same (order and IPv6 spelling aside). */
export function sameNames (a: SubjectNames, b: SubjectNames): boolean {
  const norm = (n: SubjectNames): string => [...n.ips.map(canonicalIp), ...n.dns.map(d => d.toLowerCase())].sort().join(' ')
  return norm(a) === norm(b)
}

function canonicalIp (ip: string): string {
  if (isIP(ip) !== 6) return ip
  // Expands `::` and drops leading zeros, so `::1` equals `0:0:0:0:0:0:0:1`.
  const [head = '', tail] = ip.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return groups.map(g => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')
}
