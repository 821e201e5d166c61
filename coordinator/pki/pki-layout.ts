// Where `keyroll pki` writes a site's PKI. One directory holds everything; the operator copies
// each part to the machine that uses it (docs/operations.md):
//
//   D/ca.crt, D/ca.key                       the CA (ca.key never leaves the admin machine)
//   D/coordinator/server.{crt,key}          the coordinator's API (its DNS names and IPs)
//   D/coordinator/client.{crt,key}          the coordinator calling agents (mutual TLS)
//   D/agents/<node>/server.{crt,key}        an agent's API (its IPs, its node name)
//   D/agents/<node>/client.{crt,key}        the agent asking the coordinator for a boot slot (CN = node)
//   D/agents/<node>/agent-tls.yaml          the agent config's `tls` section for these files,
//                                           answering only the coordinator (tls.allowedClients)
//
// Keys are 0600, certificates and configs 0644, directories 0700.
import { join } from 'node:path'

/** A certificate and its key file. */
export interface CertKeyPaths { crt: string, key: string }

/** The CA's files under `dir`. */
export function caPaths (dir: string): CertKeyPaths {
  return { crt: join(dir, 'ca.crt'), key: join(dir, 'ca.key') }
}

/** The coordinator's server and client certificates under `dir`. */
export function coordinatorPaths (dir: string): { dir: string, server: CertKeyPaths, client: CertKeyPaths } {
  const d = join(dir, 'coordinator')
  return { dir: d, server: pair(d, 'server'), client: pair(d, 'client') }
}

/** The directory holding every agent's directory. */
export function agentsDir (dir: string): string {
  return join(dir, 'agents')
}

/** One agent's server and client certificates and its config's `tls` section under `dir`. */
export function agentPaths (dir: string, node: string): { dir: string, server: CertKeyPaths, client: CertKeyPaths, config: string } {
  const d = join(agentsDir(dir), node)
  return { dir: d, server: pair(d, 'server'), client: pair(d, 'client'), config: join(d, 'agent-tls.yaml') }
}

function pair (dir: string, name: string): CertKeyPaths {
  return { crt: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }
}
