// The wire form of a change (docs/design.md, "The change model"): what an operator
// writes in a spec file and what the coordinator sends an agent. Secrets travel as
// `{ "$secret": "…" }` (JSON) or `!secret …` (YAML). Types come from the schemas (Static), so no
// shape is written twice. parse-change-spec.ts and validate-change.ts turn this form into the
// validated, defaulted, secret-wrapped Change (change.ts).
import Type, { type Static } from 'typebox'
import { DURATION_PATTERN } from './duration.js'

/** Regex source of an environment variable name systemd accepts (env_name_is_valid). */
export const ENV_NAME_SOURCE = '^[A-Za-z_][A-Za-z0-9_]*$'

/** A secret value: masked in every view, diff and log. The type is `{ $secret: string }`. */
export const SecretRefSchema = Type.Object({
  $secret: Type.String({ minLength: 1, description: 'the secret value' })
}, { additionalProperties: false, description: 'a secret: { "$secret": "<value>" } (YAML: !secret <value>)' })
export type SecretRef = Static<typeof SecretRefSchema>

/** A duration such as `500ms`, `60s`, `2m`, `1m30s`. */
export const DurationSchema = Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 500ms, 60s, 2m or 1m30s' })

/** An environment variable name. */
export const EnvNameSchema = Type.String({ pattern: ENV_NAME_SOURCE, description: 'a variable name: letters, digits and _, not starting with a digit' })

/** A file mode to set, octal: "0600", "640". Default: the file keeps its mode. */
export const FileModeSchema = Type.String({ pattern: '^0?[0-7]{3}$', description: 'octal file mode to set, e.g. "0600" (owner only); default: keep the file\'s mode' })

/** Edits of the minkms YAML config: values at dotted paths, paths to delete. */
export const ConfigChangeSpecSchema = Type.Object({
  set: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown(), {
    description: 'dotted path (e.g. hsm.minio.minkms; quote segments holding dots: a."b.c") → any YAML value'
  })),
  delete: Type.Optional(Type.Array(Type.String({ minLength: 1, description: 'a dotted path' }), {
    uniqueItems: true, description: 'dotted paths to remove'
  })),
  mode: Type.Optional(FileModeSchema)
}, { additionalProperties: false, description: 'edits of the minkms config file' })
export type ConfigChangeSpec = Static<typeof ConfigChangeSpecSchema>

/** Edits of the EnvironmentFile. */
export const EnvChangeSpecSchema = Type.Object({
  set: Type.Optional(Type.Record(EnvNameSchema, Type.Union([Type.String(), SecretRefSchema], {
    description: 'a string, or a secret { "$secret": "<value>" }'
  }), { additionalProperties: false, description: 'variable name → value' })),
  unset: Type.Optional(Type.Array(EnvNameSchema, { uniqueItems: true, description: 'variable names to remove' })),
  mode: Type.Optional(FileModeSchema)
}, { additionalProperties: false, description: 'edits of the environment file' })
export type EnvChangeSpec = Static<typeof EnvChangeSpecSchema>

/** When the agent restarts the unit: never, only when a file changed (default), or always. */
export const RestartPolicySchema = Type.Enum(['never', 'on-change', 'always'], { description: 'never, on-change or always' })
export type RestartPolicy = Static<typeof RestartPolicySchema>

/** How long a restart may take to prove itself, and how long it must stay healthy. */
export const VerifySpecSchema = Type.Object({
  deadline: Type.Optional(DurationSchema),
  stableFor: Type.Optional(DurationSchema)
}, { additionalProperties: false, description: 'restart verification: deadline (default 60s), stableFor (default 5s)' })
export type VerifySpec = Static<typeof VerifySpecSchema>

/** A revisioned change, as written by an operator or sent over the wire. */
export const ChangeSpecSchema = Type.Object({
  revision: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the revision number, an integer from 1 to 2^53-1 (9007199254740991)' }),
  files: Type.Object({
    config: Type.Optional(ConfigChangeSpecSchema),
    env: Type.Optional(EnvChangeSpecSchema)
  }, { additionalProperties: false, description: 'the files to edit: config and/or env' }),
  restart: Type.Optional(RestartPolicySchema),
  verify: Type.Optional(VerifySpecSchema)
}, { additionalProperties: false, description: 'a change' })
export type ChangeSpec = Static<typeof ChangeSpecSchema>

/** Defaults applied to a spec that omits them. */
export const CHANGE_DEFAULTS = { restart: 'on-change', deadline: '60s', stableFor: '5s' } as const satisfies {
  restart: RestartPolicy, deadline: string, stableFor: string
}

/**
 * What a change looks like in API responses, events and logs: secrets replaced by
 * `***<fingerprint>`, defaults filled in. `redacted: true` keeps a view from being mistaken for
 * (or re-applied as) a spec: ChangeSpecSchema rejects the extra field.
 */
export const ChangeViewSchema = Type.Object({
  revision: Type.Integer({ minimum: 1 }),
  files: Type.Object({
    config: Type.Optional(Type.Object({
      set: Type.Record(Type.String(), Type.Unknown()),
      delete: Type.Array(Type.String())
    }, { additionalProperties: false })),
    env: Type.Optional(Type.Object({
      set: Type.Record(Type.String(), Type.String()),
      unset: Type.Array(Type.String())
    }, { additionalProperties: false }))
  }, { additionalProperties: false }),
  restart: RestartPolicySchema,
  verify: Type.Object({ deadline: DurationSchema, stableFor: DurationSchema }, { additionalProperties: false }),
  redacted: Type.Literal(true)
}, { additionalProperties: false, description: 'a change with its secrets masked' })
export type ChangeView = Static<typeof ChangeViewSchema>

/** A validation finding in a view (same shape as edit/problem.ts Problem). */
export const ProblemViewSchema = Type.Object({
  path: Type.String(),
  message: Type.String(),
  line: Type.Optional(Type.Integer({ minimum: 1 })),
  column: Type.Optional(Type.Integer({ minimum: 1 }))
}, { additionalProperties: false })

/** The plan for one file as API responses show it: the masked diff, never the content. */
export const FilePlanViewSchema = Type.Object({
  file: Type.Enum(['config', 'env']),
  label: Type.String({ description: 'the file name shown in the diff header' }),
  existed: Type.Boolean(),
  changed: Type.Boolean(),
  diff: Type.String({ description: 'unified diff with secrets shown as ***<fingerprint>; empty when unchanged' }),
  problems: Type.Array(ProblemViewSchema, { description: 'validation problems of the new content; any blocks the apply' }),
  warnings: Type.Array(ProblemViewSchema, { description: 'findings that do not block the apply' })
}, { additionalProperties: false })
export type FilePlanView = Static<typeof FilePlanViewSchema>

/** The plan of a change: per file, and whether the unit would restart. */
export const ChangePlanViewSchema = Type.Object({
  revision: Type.Integer({ minimum: 1 }),
  changed: Type.Boolean(),
  restart: Type.Boolean({ description: 'true when applying would restart the unit' }),
  ok: Type.Boolean({ description: 'false when any file has validation problems' }),
  files: Type.Object({
    config: Type.Optional(FilePlanViewSchema),
    env: Type.Optional(FilePlanViewSchema)
  }, { additionalProperties: false })
}, { additionalProperties: false })
export type ChangePlanView = Static<typeof ChangePlanViewSchema>
