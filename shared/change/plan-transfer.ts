// The form in which a ChangePlan crosses from the worker thread that planned it back to the thread
// that asked. A FilePlan keeps the content to write in a private field (so that logging a plan
// shows only its masked view), which structured clone drops; here it travels explicitly as
// `newText` (with `holdsSecret`, what the worker found in it). That text holds secrets in clear:
// postMessage within the process only.
import { FilePlan, type ChangePlan } from './plan.js'
import type { FilePlanView } from './schema.js'

/** One file's plan between threads: the masked view and the content to write. */
export interface FilePlanTransfer {
  readonly view: FilePlanView
  /** HOLDS SECRETS IN CLEAR. */
  readonly newText: string
  readonly holdsSecret: boolean
}

/** A ChangePlan between threads. */
export interface PlanTransfer {
  readonly revision: number
  readonly files: { readonly config?: FilePlanTransfer, readonly env?: FilePlanTransfer }
  readonly changed: boolean
  readonly restart: boolean
  readonly ok: boolean
}

/** The transfer form of `plan`. */
export function encodePlan (plan: ChangePlan): PlanTransfer {
  const file = (f: FilePlan): FilePlanTransfer => ({ view: f.toJSON(), newText: f.newText, holdsSecret: f.holdsSecret })
  const { config, env } = plan.files
  return {
    revision: plan.revision,
    files: { ...(config === undefined ? {} : { config: file(config) }), ...(env === undefined ? {} : { env: file(env) }) },
    changed: plan.changed,
    restart: plan.restart,
    ok: plan.ok
  }
}

/** The ChangePlan `t` was made from. */
export function decodePlan (t: PlanTransfer): ChangePlan {
  const { config, env } = t.files
  return {
    revision: t.revision,
    files: {
      ...(config === undefined ? {} : { config: new FilePlan(config.view, config.newText, config.holdsSecret) }),
      ...(env === undefined ? {} : { env: new FilePlan(env.view, env.newText, env.holdsSecret) })
    },
    changed: t.changed,
    restart: t.restart,
    ok: t.ok
  }
}
