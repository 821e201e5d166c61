// What `npm run demo` checks after the migration, as pure functions over what it read from the
// lab (file texts, journal texts, the cluster status, the client load's counts): each returns the
// problems it found, worded for the operator, and never a secret value (a key that leaked is
// named by what it is, not shown).
import { isDeepStrictEqual } from 'node:util'
import { parse } from 'yaml'
import { parseApiKey } from '../../shared/minkms/keys.js'
import { EXTERNAL_HSM_NAME } from '../../shared/schemas/hsm-migration.js'

/** The local software HSM: sealing with MINIO_KMS_HSM_KEY from /etc/default/minkms. */
export const LOCAL_HSM_NAME = 'hsm:minio:soft'
/** The env variable phase B removes. */
export const HSM_KEY_VAR = 'MINIO_KMS_HSM_KEY'

/** What the migration was asked to configure. */
export interface ExpectedHsm { servers: readonly string[], enclave: string, key: string }

/** Comment lines and lines ending in a comment, as written (the YAML editor must keep each one). */
function commentLines (text: string): string[] {
  return text.split('\n').filter((l) => /(^|\s)#/.test(l))
}

/** Whether `needles` appear in `hay` in the same order (not necessarily next to each other). */
function inOrder (needles: readonly string[], hay: readonly string[]): boolean {
  let at = 0
  for (const n of needles) {
    const found = hay.indexOf(n, at)
    if (found < 0) return false
    at = found + 1
  }
  return true
}

function record (v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
}

/** The settings of a parsed config without `hsm.minio.minkms` (and without `hsm` once it is empty). */
function withoutExternalHsm (doc: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(doc)
  const hsm = record(copy.hsm)
  const minio = record(hsm?.minio)
  if (hsm !== undefined && minio !== undefined) {
    delete minio.minkms
    if (Object.keys(minio).length === 0) delete hsm.minio
  }
  if (hsm !== undefined && Object.keys(hsm).length === 0) delete copy.hsm
  return copy
}

/**
 * A node's minkms config after the migration against the one before: `hsm.minio.minkms` holds
 * the servers, enclave and key asked for and an API key (`auth.key`, checked for its form only),
 * every comment of the old file is still there in its order, and every other setting is unchanged.
 */
export function checkConfig (before: string, after: string, expected: ExpectedHsm): string[] {
  const problems: string[] = []
  let old: Record<string, unknown> | undefined
  let now: Record<string, unknown> | undefined
  try { old = record(parse(before)) } catch (err) { problems.push(`the config before the migration does not parse: ${(err as Error).message}`) }
  try { now = record(parse(after)) } catch (err) { problems.push(`the config does not parse: ${(err as Error).message}`) }
  if (old === undefined || now === undefined) return problems.length > 0 ? problems : ['the config is not a YAML mapping']
  const section = record(record(record(now.hsm)?.minio)?.minkms)
  if (section === undefined) {
    problems.push('no hsm.minio.minkms section')
  } else {
    const servers = section.server
    if (!isDeepStrictEqual(servers, [...expected.servers])) problems.push(`hsm.minio.minkms.server is ${JSON.stringify(servers)}, not ${JSON.stringify(expected.servers)}`)
    if (section.enclave !== expected.enclave) problems.push(`hsm.minio.minkms.enclave is ${JSON.stringify(section.enclave)}, not "${expected.enclave}"`)
    if (section.key !== expected.key) problems.push(`hsm.minio.minkms.key is ${JSON.stringify(section.key)}, not "${expected.key}"`)
    const apiKey = record(section.auth)?.key
    // Whatever kind keyroll generated (k1: Ed25519 or k2: ECDSA), it must parse as minkms parses it.
    let valid = typeof apiKey === 'string'
    try { if (valid) parseApiKey(apiKey as string) } catch { valid = false }
    if (!valid) problems.push('hsm.minio.minkms.auth.key is not a k1:/k2: API key')
  }
  const otherHsms = Object.keys(record(now.hsm) ?? {}).flatMap((kind) => Object.keys(record(record(now.hsm)?.[kind]) ?? {}).map((sub) => `hsm.${kind}.${sub}`))
    .filter((k) => k !== 'hsm.minio.minkms')
  if (otherHsms.length > 0) problems.push(`other HSM blocks are configured: ${otherHsms.join(', ')}`)
  const comments = commentLines(before)
  if (!inOrder(comments, after.split('\n'))) {
    const lost = comments.filter((c) => !after.split('\n').includes(c))
    problems.push(lost.length > 0 ? `${lost.length} earlier comment line(s) are gone, the first: ${JSON.stringify(lost[0])}` : 'the earlier comments are out of order')
  }
  if (!isDeepStrictEqual(withoutExternalHsm(now), withoutExternalHsm(old))) problems.push('settings other than hsm.minio.minkms changed')
  return problems
}

/** The variable names of an env file's assignments, in order (comments and blank lines skipped). */
function envLines (text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
}

/**
 * A node's /etc/default/minkms after the migration against the one before: MINIO_KMS_HSM_KEY is
 * gone (not even commented out: the value would still sit in the file), its value appears nowhere,
 * and every other assignment is unchanged, in its order.
 */
export function checkEnv (before: string, after: string): string[] {
  const problems: string[] = []
  if (after.includes(HSM_KEY_VAR)) problems.push(`${HSM_KEY_VAR} is still in the file`)
  const value = envLines(before).find((l) => l.startsWith(`${HSM_KEY_VAR}=`))?.slice(HSM_KEY_VAR.length + 1).replace(/^["']|["']$/g, '')
  if (value !== undefined && value !== '' && after.includes(value)) problems.push(`the value of ${HSM_KEY_VAR} is still in the file`)
  const kept = envLines(before).filter((l) => !l.startsWith(`${HSM_KEY_VAR}=`))
  if (!isDeepStrictEqual(envLines(after), kept)) problems.push(`assignments other than ${HSM_KEY_VAR} changed`)
  return problems
}

/** One start of minkms read from its journal: the HSMs its banner listed (empty: it never got that far). */
export interface MinkmsStart { hsms: string[] }

/** The starts of minkms in `journalctl -u minkms -o cat` text, each with the HSMs its banner names. */
export function minkmsStarts (journal: string): MinkmsStart[] {
  const starts: MinkmsStart[] = []
  let current: MinkmsStart | undefined
  let inHsmList = false
  for (const line of journal.split('\n')) {
    if (/Starting server instance\.\.\.$/.test(line)) {
      current = { hsms: [] }
      starts.push(current)
      inHsmList = false
      continue
    }
    const first = /^HSM {2,}(\S+)$/.exec(line)
    if (current !== undefined && first?.[1] !== undefined) {
      current.hsms.push(first[1])
      inHsmList = true
      continue
    }
    const more = /^ {15}(hsm:\S+)$/.exec(line)
    if (current !== undefined && inHsmList && more?.[1] !== undefined) {
      current.hsms.push(more[1])
      continue
    }
    inHsmList = false
  }
  return starts
}

/** Restarts of one node during the migration, by what they started with. */
export interface RestartsByPhase {
  /** With the external HSM added beside the local one (phase A). */
  A: number
  /** With the external HSM alone (phase B). */
  B: number
  /** Anything else: a start that never reached its banner (a failed start), or another HSM set. */
  other: number
}

/** Counts `starts` (the starts after the migration began) by phase. */
export function restartsByPhase (starts: readonly MinkmsStart[]): RestartsByPhase {
  const counts: RestartsByPhase = { A: 0, B: 0, other: 0 }
  for (const s of starts) {
    const set = new Set(s.hsms)
    if (set.size === 2 && set.has(LOCAL_HSM_NAME) && set.has(EXTERNAL_HSM_NAME)) counts.A++
    else if (set.size === 1 && set.has(EXTERNAL_HSM_NAME)) counts.B++
    else counts.other++
  }
  return counts
}

/** Exactly one restart per phase, and no other start. */
export function checkRestarts (r: RestartsByPhase): string[] {
  const problems: string[] = []
  if (r.A !== 1) problems.push(`restarted ${r.A} times with the external HSM added (phase A), not once`)
  if (r.B !== 1) problems.push(`restarted ${r.B} times on the external HSM alone (phase B), not once`)
  if (r.other > 0) problems.push(`${r.other} other start(s) of minkms (failed, or with other HSMs)`)
  return problems
}

/** One node's entry of CLUSTER:STATUS, as the checks read it. */
export interface NodeHsms { host: string, hsms: string[], configuredHsms: string[] }

/** Every node of `hosts` up in the cluster status, configured with the external HSM alone, and holding its sealed copy. */
export function checkClusterHsms (nodes: readonly NodeHsms[], hosts: readonly string[]): string[] {
  const problems: string[] = []
  for (const host of hosts) {
    const n = nodes.find((x) => x.host === host)
    if (n === undefined) { problems.push(`${host} is not up in the cluster status`); continue }
    if (!isDeepStrictEqual(n.configuredHsms, [EXTERNAL_HSM_NAME])) problems.push(`${host} has ${JSON.stringify(n.configuredHsms)} configured, not only ${EXTERNAL_HSM_NAME}`)
    if (!n.hsms.includes(EXTERNAL_HSM_NAME)) problems.push(`${host} holds no root key copy sealed by ${EXTERNAL_HSM_NAME}`)
  }
  return problems
}

/** The client load ran and no operation failed. */
export function checkLoad (load: { ok: number, failed: number }): string[] {
  const problems: string[] = []
  if (load.ok === 0) problems.push('the client load completed no operation')
  if (load.failed > 0) problems.push(`${load.failed} client operation(s) failed`)
  return problems
}

/** A secret and what to call it in a message. */
export interface NamedSecret { name: string, value: string }

/** Where each secret appears in `texts` (by name on both sides; the values are never returned). */
export function findLeaks (texts: ReadonlyArray<{ name: string, text: string }>, secrets: readonly NamedSecret[]): string[] {
  const found: string[] = []
  for (const s of secrets) {
    if (s.value.length < 8) continue
    for (const t of texts) if (t.text.includes(s.value)) found.push(`${s.name} appears in ${t.name}`)
  }
  return found
}
