// The errors of `keyroll pki`: bad names or addresses, a CA that would be overwritten, an agent
// that exists with other addresses. All are refusals before anything is written (CLI exit 2).
import { catalogueError, type Catalogue } from '../../shared/errors.js'

/** Every CRD_PKI_ code. */
export const PKI_CODES = {
  CRD_PKI_INVALID_INPUT: { status: 400, meaning: 'a node name, DNS name or IP address given to keyroll pki is not valid; the message names it' },
  CRD_PKI_CA_EXISTS: { status: 409, meaning: 'keyroll pki init found a CA in the directory; it is kept unless --force (which re-issues every certificate)' },
  CRD_PKI_NO_CA: { status: 409, meaning: 'keyroll pki add-agent found no CA (ca.crt and ca.key) in the directory; run keyroll pki init first' },
  CRD_PKI_AGENT_EXISTS: { status: 409, meaning: 'the agent already has certificates for other names or addresses; --force re-issues them' }
} as const satisfies Catalogue

/** A code of {@link PKI_CODES}. */
export type PkiCode = keyof typeof PKI_CODES

/** Base of the PKI errors. */
export class PkiError extends catalogueError(PKI_CODES) {}
