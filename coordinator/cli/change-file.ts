// The change spec file of `plan` and `rollout start`: read, checked here first (so a mistake is
// reported with the file's own lines before anything is sent), then sent as written. The
// coordinator applies its defaults to the spec exactly as the agents would, so the same file
// gives the same plan hash in `plan` and in `rollout start`.
import { parseChangeSpec, readChangeSpecValue, type SpecFormat } from '../../shared/change/parse-change-spec.js'
import { readText } from './connection.js'

/** A change spec file, checked. */
export interface ChangeFile {
  path: string
  format: SpecFormat
  text: string
  /** The spec's value as written (secrets as `{ $secret }`): the `change` of a JSON request. */
  value: unknown
}

/** Reads and checks a change spec file (YAML, or JSON for a `.json` name). */
export async function readChangeFile (path: string): Promise<ChangeFile> {
  const text = await readText(path, 'the change spec')
  const format: SpecFormat = /\.json$/i.test(path) ? 'json' : 'yaml'
  parseChangeSpec(text, format)
  return { path, format, text, value: readChangeSpecValue(text, format) }
}
