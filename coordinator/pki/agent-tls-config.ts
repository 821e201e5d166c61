// The agent config's `tls` section that `keyroll pki` writes beside each agent's certificates:
// the files where docs/operations.md copies them, and `allowedClients` naming the coordinator's
// client certificate only. Every certificate of a site comes from one CA, so without it an agent
// would answer any node's client certificate (made for boot slots) as it answers the coordinator.

/** Where docs/operations.md copies a node's certificates. */
export const AGENT_TLS_DIR = '/etc/keyroll/tls'

/** The YAML text of the section (a comment line, then `tls:`). */
export function agentTlsConfig (node: string, coordinatorName: string): string {
  return [
    `# keyroll-agent on ${node}: the tls section of /etc/keyroll/agent.yaml, written by keyroll pki.`,
    "# The paths are where docs/operations.md copies this directory and ca.crt; only the coordinator's",
    '# client certificate may call the agent (add e.g. a monitoring client\'s name to allowedClients).',
    'tls:',
    `  cert: ${AGENT_TLS_DIR}/server.crt`,
    `  key: ${AGENT_TLS_DIR}/server.key`,
    `  clientCa: ${AGENT_TLS_DIR}/ca.crt`,
    `  allowedClients: [${JSON.stringify(coordinatorName)}]`,
    ''
  ].join('\n')
}
