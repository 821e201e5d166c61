// How a gate probe of minkms fails: minkms could not be asked (connect, TLS, timeout), or it
// answered with an error or a wrong answer. Messages name the node and the probe, and pass the
// secret-pattern mask: a server message is not ours to trust.
import { describeCause } from '../../shared/minkms/errors.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import { CoordinatorError } from '../errors.js'
import type { NodeRef } from '../ports/node-ref.js'

function where (node: NodeRef | undefined): string {
  return node === undefined ? 'minkms' : `minkms of node ${node.name} (${node.minkms})`
}

/** minkms could not be asked. */
export class MinkmsUnreachableProbeError extends CoordinatorError {
  readonly node: string | undefined
  constructor (node: NodeRef, probe: string, cause: unknown) {
    super('CRD_MINKMS_UNREACHABLE', redactText(`${probe}: ${where(node)} is unreachable: ${describeCause(cause)}`, []), { cause })
    this.node = node.name
  }
}

/** minkms answered a probe with an error, or with a wrong answer. */
export class MinkmsProbeError extends CoordinatorError {
  readonly node: string | undefined
  constructor (node: NodeRef | undefined, probe: string, detail: string, cause?: unknown) {
    super('CRD_MINKMS_PROBE_FAILED', redactText(`${probe}: ${where(node)}: ${detail}`, []), cause === undefined ? undefined : { cause })
    this.node = node?.name
  }
}
