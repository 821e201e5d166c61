// The messages between the agent and its plan worker (worker-planner.ts, plan-worker.ts). Both
// directions carry secrets in clear (the change's values, the content to write): they exist only
// as postMessage between threads of the agent process.
import type { ChangeTransfer } from '../../shared/change/change-transfer.js'
import type { ErrorTransfer } from '../../shared/change/error-transfer.js'
import type { CurrentFiles, PlanOptions } from '../../shared/change/plan.js'
import type { PlanTransfer } from '../../shared/change/plan-transfer.js'

/** Plan `change` against `current`. */
export interface PlanRequest {
  readonly id: number
  readonly current: CurrentFiles
  readonly change: ChangeTransfer
  readonly opts: PlanOptions
}

/** The plan of request `id`, or what planning threw. */
export type PlanReply =
  | { readonly id: number, readonly ok: true, readonly plan: PlanTransfer }
  | { readonly id: number, readonly ok: false, readonly error: ErrorTransfer }
