// Planning a change: what each file would become, whether anything changes, whether the unit
// would restart, and a unified diff an operator can read, with every secret shown as
// `***<fingerprint>`. Pure: no file is read or written here (the caller passes current texts).
//
// Masked in diffs: the change's secrets; in the old and new texts, values at secret config paths
// (auth.key, password, …), values of secret-named variables (MINIO_KMS_HSM_KEY, *_TOKEN, …,
// `export` lines included), and anything that looks like a k1:/k2: API key or hsm: key.
import { inspect } from 'node:util'
import { editEnvFile } from '../edit/env-file.js'
import { checkMinkmsConfig } from '../edit/minkms-config.js'
import { EditError } from '../edit/errors.js'
import { checkMinkmsEnvFile } from '../edit/minkms-env.js'
import type { Problem } from '../edit/problem.js'
import { editYaml } from '../edit/yaml-edit.js'
import { redactText, type RedactEntry } from '../secrets/redact-text.js'
import { reveal } from '../secrets/secret.js'
import { changeSecrets, deepFreeze, revealConfigValue, type Change } from './change.js'
import { secretsInEnv, secretsInYaml } from './file-secrets.js'
import { unifiedDiff } from './line-diff.js'
import type { ChangePlanView, FilePlanView } from './schema.js'

/** The managed files a change can edit. */
export type ManagedFile = 'config' | 'env'

/** Current contents of the managed files; undefined for a file that does not exist. */
export interface CurrentFiles {
  readonly config?: string | undefined
  readonly env?: string | undefined
}

/** Options for {@link planChange}. */
export interface PlanOptions {
  /** Key of the `***<fingerprint>` masks (per agent, or per cluster to compare nodes). */
  readonly fingerprintKey: Uint8Array | string
  /** Names for the diff headers (e.g. the real paths); default `config` and `env`. */
  readonly labels?: { readonly config?: string, readonly env?: string }
}

/**
 * The plan for one file. Its new content is reachable only through `newText`; JSON, string and
 * inspect forms show the masked view, so a plan can be logged or returned as it is.
 */
export class FilePlan {
  readonly #newText: string
  readonly #view: FilePlanView
  readonly #holdsSecret: boolean

  constructor (view: FilePlanView, newText: string, holdsSecret: boolean) {
    this.#view = deepFreeze(view)
    this.#newText = newText
    this.#holdsSecret = holdsSecret
  }

  /** Which file. */
  get file (): ManagedFile { return this.#view.file }
  /** The file name shown in the diff header. */
  get label (): string { return this.#view.label }
  /** False when the file did not exist (its current content counts as empty). */
  get existed (): boolean { return this.#view.existed }
  /** True when the new content differs from the current one. */
  get changed (): boolean { return this.#view.changed }
  /** Masked unified diff ('' when unchanged). */
  get diff (): string { return this.#view.diff }
  /** Validation problems of the new content; any blocks the apply. */
  get problems (): readonly Problem[] { return this.#view.problems }
  /** Non-blocking findings. */
  get warnings (): readonly Problem[] { return this.#view.warnings }
  /** The content to write. Holds secrets in clear: write it, never log it. */
  get newText (): string { return this.#newText }
  /**
   * True when the new content holds a secret (a value at a secret path or variable, or a key
   * lookalike). Found while masking the diff, so nobody parses the new content again for it.
   */
  get holdsSecret (): boolean { return this.#holdsSecret }

  /** The masked view. */
  toJSON (): FilePlanView { return this.#view }
  /** The masked view. */
  [inspect.custom] (): string { return `FilePlan ${inspect(this.#view)}` }
}

/** The plan of a whole change. */
export interface ChangePlan {
  readonly revision: number
  /** Per edited file; a file the change does not mention is absent. */
  readonly files: { readonly config?: FilePlan, readonly env?: FilePlan }
  /** True when any file changes. */
  readonly changed: boolean
  /** True when applying would restart the unit (restart policy and `changed`). */
  readonly restart: boolean
  /** False when any file has validation problems. */
  readonly ok: boolean
}

/**
 * Computes new contents, diffs and validation for a change. Throws the editors' typed errors
 * (EditError subclasses: invalid path, unparsable current file, path through a scalar, …).
 */
export function planChange (current: CurrentFiles, change: Change, opts: PlanOptions): ChangePlan {
  const { config, env } = change.files
  const oldConfig = current.config ?? ''
  const oldEnv = current.env ?? ''
  const newConfig = config === undefined
    ? oldConfig
    : inFile(opts.labels?.config ?? 'config', () => editYaml(oldConfig, {
      set: Object.fromEntries(Object.entries(config.set).map(([p, v]) => [p, revealConfigValue(v)])),
      delete: config.delete
    }))
  const newEnv = env === undefined
    ? oldEnv
    : inFile(opts.labels?.env ?? 'env', () => editEnvFile(oldEnv, { set: Object.fromEntries(Object.entries(env.set).map(([k, v]) => [k, reveal(v)])), unset: env.unset }))

  const newConfigSecrets = config === undefined ? [] : secretsInYaml(newConfig)
  const newEnvSecrets = env === undefined ? [] : secretsInEnv(newEnv)
  const secrets: RedactEntry[] = [
    ...changeSecrets(change),
    ...(config === undefined ? [] : [...secretsInYaml(oldConfig), ...newConfigSecrets]),
    ...(env === undefined ? [] : [...secretsInEnv(oldEnv), ...newEnvSecrets])
  ]
  const mask = (s: string): string => redactText(s, secrets, { key: opts.fingerprintKey })
  const maskProblems = (ps: readonly Problem[]): Problem[] => ps.map(p => ({ ...p, message: mask(p.message) }))

  const files: { config?: FilePlan, env?: FilePlan } = {}
  if (config !== undefined) {
    const label = opts.labels?.config ?? 'config'
    files.config = new FilePlan({
      file: 'config',
      label,
      existed: current.config !== undefined,
      changed: newConfig !== oldConfig,
      diff: unifiedDiff(oldConfig, newConfig, { oldLabel: label, newLabel: label, mapLine: mask }),
      problems: maskProblems(checkMinkmsConfig(newConfig)),
      warnings: []
    }, newConfig, newConfigSecrets.length > 0)
  }
  if (env !== undefined) {
    const label = opts.labels?.env ?? 'env'
    const check = checkMinkmsEnvFile(newEnv)
    files.env = new FilePlan({
      file: 'env',
      label,
      existed: current.env !== undefined,
      changed: newEnv !== oldEnv,
      diff: unifiedDiff(oldEnv, newEnv, { oldLabel: label, newLabel: label, mapLine: mask }),
      problems: maskProblems(check.problems),
      warnings: maskProblems(check.warnings)
    }, newEnv, newEnvSecrets.length > 0)
  }
  const changed = (files.config?.changed ?? false) || (files.env?.changed ?? false)
  const restart = change.restart === 'always' || (change.restart === 'on-change' && changed)
  const ok = (files.config?.problems.length ?? 0) === 0 && (files.env?.problems.length ?? 0) === 0
  return { revision: change.revision, files, changed, restart, ok }
}

// An editor's refusal that is about the file as it is on the node (it does not parse, it uses YAML
// the editor will not touch, a line would not read back) says "line 3" without saying of which
// file; the operator who must fix it by hand is told the file first. Errors about the change
// itself (a malformed path, a bad variable name or value) are the spec's and stay as they are.
const SPEC_ERRORS = new Set(['SHR_EDIT_INVALID_PATH', 'SHR_ENV_INVALID_KEY', 'SHR_ENV_INVALID_VALUE'])

function inFile<T> (label: string, edit: () => T): T {
  try {
    return edit()
  } catch (err) {
    if (err instanceof EditError && !SPEC_ERRORS.has(err.code)) err.message = `${label}: ${err.message}`
    throw err
  }
}

/** The masked view of a plan (what `POST /v1/plan` returns). */
export function planView (plan: ChangePlan): ChangePlanView {
  return {
    revision: plan.revision,
    changed: plan.changed,
    restart: plan.restart,
    ok: plan.ok,
    files: {
      ...(plan.files.config === undefined ? {} : { config: plan.files.config.toJSON() }),
      ...(plan.files.env === undefined ? {} : { env: plan.files.env.toJSON() })
    }
  }
}
