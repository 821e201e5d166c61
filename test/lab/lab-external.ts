// The lab's external Key Manager (`up --external M`) as the target of an HSM migration: what
// `keyroll hsm migrate` needs to move the cluster's root-key HSM onto it. Every member's
// `host:port`, in the order minkms tries them, and the file holding its root API key, which may
// create the enclave, the Admin identity and the seal/unseal key (the migration's
// `--admin-key-file`). The key file is 0600 in the lab's 0700 secrets directory; nothing here
// reads or prints the key itself.
import type { LabState } from './lab-state.js'

/** The external Key Manager in `status --json`. */
export interface ExternalKms {
  /** `host:port` of ext1..M. */
  servers: string[]
  /** Its root API key (written by `up` once the external Key Manager formed). */
  adminKeyFile: string
}

/** The enclave and seal/unseal key the demo (and the printed migrate line) use on the external Key Manager. */
export const LAB_HSM = { enclave: 'keyroll-demo', key: 'keyroll-demo-hsm' } as const

/** The external Key Manager of a lab, or null when it has no external nodes. */
export function externalKms (state: Pick<LabState, 'nodes' | 'secrets'>): ExternalKms | null {
  const servers = state.nodes.filter((n) => n.role === 'external').map((n) => `${n.address}:${n.port}`)
  return servers.length === 0 ? null : { servers, adminKeyFile: state.secrets.external.rootKeyFile }
}

/** The arguments of `keyroll hsm migrate` that move `cluster`'s HSM onto `external`. */
export function hsmMigrateArgs (cluster: string, external: ExternalKms, hsm: { enclave: string, key: string } = LAB_HSM): string[] {
  return ['hsm', 'migrate', '--cluster', cluster, '--external', external.servers.join(','), '--enclave', hsm.enclave, '--key', hsm.key, '--admin-key-file', external.adminKeyFile]
}

/** The same as a line to paste. */
export function hsmMigrateCommand (cluster: string, external: ExternalKms, hsm: { enclave: string, key: string } = LAB_HSM): string {
  return ['npx keyroll', ...hsmMigrateArgs(cluster, external, hsm)].join(' ')
}
