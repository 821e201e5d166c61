// The external Key Manager servers of a request (an HSM migration on the coordinator, a preflight
// on an agent), checked at the API's edge. The schema bounds their characters only. What it let
// through of an HSM migration was stored and started: `h:0`, `h:99999`, `[::1` or `...` reached
// provisioning (a 502, or a failed migration after it and its audit entry were written), and a
// server given without its port (the schema says port 7373 then) went into phase A's config as
// written, where the nodes' config check (host:port) refused it after the external Key Manager
// was provisioned. An agent's preflight tried `h:0` and answered `h:99999` with a bare "invalid
// minkms endpoint". Here each server is host:port with a port 1-65535 and a DNS name, IPv4 or
// [IPv6] host (the check the nodes' config gets), a server without a port gets 7373 written out,
// and one listed twice in another spelling (`KMS:7373` and `kms`) is refused, naming the field:
// nothing is stored, provisioned or connected to for a list that breaks this.
import { RequestValidationError } from '../errors.js'
import { hostPortProblem } from '../edit/minkms-config.js'
import { DEFAULT_MINKMS_PORT } from './endpoint.js'

/** The servers with the default port written out; throws RequestValidationError naming each bad one. */
export function checkedExternalServers (servers: readonly string[], field = 'body.external'): string[] {
  const problems: string[] = []
  const seen = new Map<string, number>()
  const out = servers.map((s, i) => {
    const full = withPort(s)
    // Named as the client wrote it, not with the port added here.
    const problem = full === undefined ? 'an IPv6 address is written in brackets, e.g. [fd00::1]:7373' : hostPortProblem(full)?.replace(JSON.stringify(full), JSON.stringify(s))
    if (problem !== undefined) problems.push(`${field}.${i}: ${problem}`)
    else {
      const key = (full as string).toLowerCase()
      const first = seen.get(key)
      if (first !== undefined) problems.push(`${field}.${i}: the same server as ${field}.${first}; list each server once`)
      else seen.set(key, i)
    }
    return full ?? s
  })
  if (problems.length > 0) throw new RequestValidationError(problems.join('; '))
  return out
}

/** `s` with port 7373 when it names none; undefined for a bare IPv6 address (ambiguous). */
function withPort (s: string): string | undefined {
  if (s.startsWith('[')) return s.endsWith(']') ? `${s}:${DEFAULT_MINKMS_PORT}` : s
  const colons = s.split(':').length - 1
  if (colons === 0) return `${s}:${DEFAULT_MINKMS_PORT}`
  return colons === 1 ? s : undefined
}
