// A problem found in the file a change would produce (an invalid `auth.key`, an empty `server`
// list) is the change's fault, and the operator fixes it in the spec, not in a file that was never
// written. This traces such a problem back to the spec: the field path the operator wrote
// (`files.config.set.hsm.minio.minkms.auth.key`) and, when the change came from a spec text, its
// line and column there. A problem in a part of the file the change does not touch stays the file's.
import type { Problem } from '../edit/problem.js'
import type { Change } from './change.js'
import type { ValuePath } from './schema-problems.js'

/** The problem in the spec's terms, or undefined when the change did not write that part. */
export function traceToSpec (change: Change, file: 'config' | 'env', problem: Problem): Problem | undefined {
  const path = file === 'config' ? configSpecPath(change, problem.path) : envSpecPath(change, problem.path)
  if (path === undefined) return undefined
  const at = change.locate?.(path)
  return {
    path: path.map((s) => typeof s === 'number' ? `[${s}]` : s).join('.').replace(/\.\[/g, '['),
    message: problem.message,
    ...(at === undefined ? {} : { line: at.line, ...(at.column === undefined ? {} : { column: at.column }) })
  }
}

// `hsm.minio.minkms.server[1]` under the set key `hsm.minio.minkms` → files.config.set.<key>.server.1
function configSpecPath (change: Change, problemPath: string): ValuePath | undefined {
  const set = change.files.config?.set
  if (set === undefined) return undefined
  let best: string | undefined
  for (const key of Object.keys(set)) {
    const under = problemPath === key || problemPath.startsWith(`${key}.`) || problemPath.startsWith(`${key}[`)
    if (under && (best === undefined || key.length > best.length)) best = key
  }
  if (best === undefined) return undefined
  const rest = [...problemPath.slice(best.length).matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => m[2] === undefined ? m[1] ?? '' : Number(m[2]))
  return ['files', 'config', 'set', best, ...rest]
}

function envSpecPath (change: Change, problemPath: string): ValuePath | undefined {
  const set = change.files.env?.set
  return set !== undefined && Object.hasOwn(set, problemPath) ? ['files', 'env', 'set', problemPath] : undefined
}
