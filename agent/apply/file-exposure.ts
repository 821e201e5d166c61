// Secrets at rest: a managed file that will hold a secret (an API key, an HSM key, a value at a
// secret path) while every user on the node may read it is worth a warning in plan and apply.
// A change may set the file's mode (files.config.mode / files.env.mode, e.g. "0600"); without it
// the file keeps its mode, so the warning says what to add. Mode changes are planned and written
// here because only the applier sees the files' current modes.
import type { ChangePlan } from '../../shared/change/plan.js'
import type { Change } from '../../shared/change/change.js'
import type { FileMeta, FileSnapshot } from '../os/file-store.js'

/** Mode given to a managed file created by an apply when the change sets none (FileStore). */
export const NEW_FILE_MODE = 0o600

/** For one managed file: the mode after the apply, whether it changes, and a warning if exposed. */
export interface FileModePlan {
  /** Mode the file has after the apply. */
  mode: number
  /** Meta to write with the file when the change sets a mode; undefined keeps the file's own. */
  meta: FileMeta | undefined
  /** True when the change sets a mode the existing file does not have. */
  changed: boolean
  /** Set when a secret would be readable by every user. */
  warning: string | undefined
}

/** The mode plan of `name` for `change` against the file as it is now. */
export function planFileMode (name: 'config' | 'env', path: string, change: Change, plan: ChangePlan, current: FileSnapshot): FileModePlan | undefined {
  const edit = change.files[name]
  const filePlan = plan.files[name]
  if (edit === undefined || filePlan === undefined) return undefined
  const want = edit.mode
  const before = current.meta?.mode
  const mode = want ?? before ?? NEW_FILE_MODE
  const meta = want === undefined ? undefined : { mode: want, uid: current.meta?.uid ?? 0, gid: current.meta?.gid ?? 0 }
  const warning = filePlan.holdsSecret && (mode & 0o004) !== 0
    ? `${path} holds a secret and would be readable by every user (mode ${octal(mode)}); add files.${name}.mode: "0600" (or "0640" for the service's group) to the change`
    : undefined
  return { mode, meta, changed: want !== undefined && before !== undefined && (before & 0o7777) !== want, warning }
}

function octal (mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}
