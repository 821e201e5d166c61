// Which phase B a migration may run, checked when it is asked for (before anything is stored or
// touched). The all-at-once phase B restarts every node together: while they restart the cluster
// has no node to serve from, so it accepts no writes and reads fail until they are all back. That
// outage is the price of a cluster whose root identity changes with the local HSM (a rolling phase B
// cannot pass its first node there), and the operator must accept it in so many words.
import { CoordinatorError } from '../errors.js'
import type { AgentStagingClient } from '../ports/agent-client.js'
import type { HsmMigrationStart } from '../ports/hsm-migration-control.js'

/** Refuses a phase B mode the request cannot run; returns nothing when it may. */
export function checkPhaseBMode (req: Pick<HsmMigrationStart, 'phaseB' | 'allowWriteOutage' | 'keepLocalHsm'>, staging: AgentStagingClient | undefined): void {
  if (req.phaseB !== 'all-at-once') return
  if (req.keepLocalHsm) {
    throw new CoordinatorError('CRD_BAD_INPUT', 'phaseB "all-at-once" says how phase B restarts the nodes, and keepLocalHsm (--keep-local-hsm) skips phase B: drop one of them')
  }
  if (!req.allowWriteOutage) {
    throw new CoordinatorError('CRD_HSM_WRITE_OUTAGE', 'an all-at-once phase B restarts every node together: the cluster accepts no writes, and reads fail, until every node is back ' +
      '(the migration measures that window and reports it; a few seconds on a healthy cluster). To accept the outage send allowWriteOutage: true ' +
      '(keyroll hsm migrate … --phase-b all-at-once --allow-write-outage); nothing was started')
  }
  if (staging === undefined) {
    throw new CoordinatorError('CRD_BAD_INPUT', 'this coordinator\'s agent client cannot stage changes, which an all-at-once phase B needs; use the rolling phase B')
  }
}

/** The staging calls of `agents`, when its implementation has them (the HTTP client gains them with the agent's staging). */
export function stagingOf (agents: object): AgentStagingClient | undefined {
  const a = agents as Partial<AgentStagingClient>
  return typeof a.stage === 'function' && typeof a.commitStaged === 'function' && typeof a.discardStaged === 'function' ? a as AgentStagingClient : undefined
}
