// What a minkms config file must look like after an edit, checked before anything is written:
// one YAML mapping, `version: v1`, and, when present, a complete `hsm.minio.minkms` section
// (docs/design.md, HSM workflow step 3). Messages say what to fix and never show the API key.
import { isIPv4, isIPv6 } from 'node:net'
import { isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml'
import { parseApiKey } from '../minkms/keys.js'
import { looksLikeSecretValue } from '../secrets/patterns.js'
import { EditError } from './errors.js'
import type { Problem } from './problem.js'
import { lineAt } from './text-lines.js'
import { describeNode, parseYamlDocument } from './yaml-document.js'

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const MINKMS_PATH = ['hsm', 'minio', 'minkms'] as const

/** Every problem of a minkms config text; empty when it is valid. */
export function checkMinkmsConfig (text: string): Problem[] {
  let doc: Document.Parsed
  try {
    doc = parseYamlDocument(text)
  } catch (err) {
    if (!(err instanceof EditError)) throw err
    const pos = err as EditError & { line?: number, column?: number }
    return [{ path: '', message: err.message, ...(pos.line === undefined ? {} : { line: pos.line }), ...(pos.column === undefined ? {} : { column: pos.column }) }]
  }
  const root = doc.contents
  if (!isMap(root)) return [{ path: '', message: `the config must be a YAML mapping, found ${describeNode(root)}` }]
  const problems: Problem[] = []
  const at = (path: string, node: unknown, message: string): void => {
    const range = (node as Node | null | undefined)?.range
    problems.push(range == null ? { path, message } : { path, message, line: lineAt(text, range[0]) })
  }

  const version = root.get('version', true)
  if (version === undefined) at('version', root, 'missing; add `version: v1`')
  else if (scalarValue(version) !== 'v1') at('version', version, 'must be v1')

  let node: unknown = root
  for (let i = 0; i < MINKMS_PATH.length; i++) {
    if (!isMap(node)) return problems
    const next = node.get(MINKMS_PATH[i], true)
    if (next === undefined) return problems
    const path = MINKMS_PATH.slice(0, i + 1).join('.')
    if (!isMap(next)) {
      at(path, next, `must be a mapping, found ${describeNode(next)}`)
      return problems
    }
    node = next
  }
  if (isMap(node)) checkMinkmsHsm(node, at)
  return problems
}

type Report = (path: string, node: unknown, message: string) => void

function checkMinkmsHsm (section: YAMLMap, at: Report): void {
  const base = MINKMS_PATH.join('.')
  const server = section.get('server', true)
  if (server === undefined) at(`${base}.server`, section, 'missing; list the external Key Manager nodes as host:port, e.g. [kms0.example.net:7373]')
  else if (!isSeq(server) || server.items.length === 0) at(`${base}.server`, server, 'must be a non-empty list of host:port strings')
  else {
    server.items.forEach((item, i) => {
      const value = scalarValue(item)
      const problem = typeof value === 'string' ? hostPortProblem(value) : 'must be a host:port string'
      if (problem !== undefined) at(`${base}.server[${i}]`, item, problem)
    })
  }
  for (const field of ['enclave', 'key'] as const) {
    const v = section.get(field, true)
    const what = field === 'enclave' ? 'the enclave on the external Key Manager' : 'the name of the encryption key in that enclave'
    if (v === undefined) at(`${base}.${field}`, section, `missing; set it to ${what}`)
    else if (typeof scalarValue(v) !== 'string' || String(scalarValue(v)).trim() === '') at(`${base}.${field}`, v, `must be a non-empty string: ${what}`)
  }
  const auth = section.get('auth', true)
  if (auth === undefined) { at(`${base}.auth`, section, 'missing; add auth.key with the k1:/k2: API key of the enclave admin'); return }
  if (!isMap(auth)) { at(`${base}.auth`, auth, 'must be a mapping holding key: <k1:/k2: API key>'); return }
  const key = auth.get('key', true)
  if (key === undefined) { at(`${base}.auth.key`, auth, 'missing; set it to the k1:/k2: API key of the enclave admin'); return }
  const apiKey = scalarValue(key)
  if (typeof apiKey !== 'string') { at(`${base}.auth.key`, key, 'must be a k1:/k2: API key string'); return }
  try {
    parseApiKey(apiKey)
  } catch (err) {
    // parseApiKey's messages describe the defect (prefix, encoding, length), never the key.
    at(`${base}.auth.key`, key, `not a valid API key: ${(err as Error).message}`)
  }
}

function scalarValue (node: unknown): unknown {
  return isScalar(node) ? node.value : undefined
}

/** Why `s` is not `host:port` (port 1-65535), or undefined when it is. */
export function hostPortProblem (s: string): string | undefined {
  const shown = looksLikeSecretValue(s) ? '(value hidden: it looks like a key)' : JSON.stringify(s)
  const m = /^(\[[^\]]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(s)
  if (m === null) return `${shown} must be host:port, e.g. kms0.example.net:7373 (no scheme, no path)`
  const host = m[1] ?? ''
  const port = Number(m[2])
  if (port < 1 || port > 65535) return `${shown} has port ${port}; use 1-65535`
  const okHost = host.startsWith('[') ? isIPv6(host.slice(1, -1)) : isIPv4(host) || HOSTNAME.test(host)
  if (!okHost) return `${shown} has an invalid host; use a DNS name, an IPv4 address or [IPv6]`
  return undefined
}
