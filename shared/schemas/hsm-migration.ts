// The HSM migration as the coordinator's API, its store and `keyroll hsm migrate` see it: moving a
// cluster's root-key HSM onto an external Key Manager. One migration is a sequence of phases:
// provision (enclave, Admin identity and seal/unseal key on the external Key Manager) → preflight
// (every node tries the external servers from where it stands) → phase A (a rollout adding
// `hsm.minio.minkms` to every node's config, gated per node on the node's cluster status showing
// the external HSM configured and holding a sealed copy of its root key) → phase B (a canary
// rollout removing MINIO_KMS_HSM_KEY, and with replaceHsm the other HSM block; or, with
// `phaseB: 'all-at-once'`, that change staged on every node and committed on all of them together,
// for a cluster whose root identity changes with the local HSM) → done.
//
// Nothing here carries a secret value: the admin key and the generated API key travel inward as
// `{ "$secret": … }` and are stored sealed; views never show them. The one exception is the
// answer to a start request with `revealApiKey: true`, which carries the generated API key once.
import Type, { type Static } from 'typebox'
import { DurationSchema, SecretRefSchema } from '../change/schema.js'
import { ExternalKmsPreflightResultSchema, ExternalServerSchema } from './preflight.js'
import { GateResultSchema, RolloutEventSchema } from './rollout.js'
import { VerdictSchema } from './verdict.js'

/** The name minkms gives the external Key Manager HSM in cluster status (`hsm.minio.minkms` in the config). */
export const EXTERNAL_HSM_NAME = 'hsm:minio:minkms'

/** POST /v1/hsm-migrations body. */
export const HsmMigrationRequestSchema = Type.Object({
  cluster: Type.String({ minLength: 1, maxLength: 128 }),
  external: Type.Array(ExternalServerSchema, {
    minItems: 1, maxItems: 16, uniqueItems: true, description: 'host:port of each external Key Manager server, in the order minkms tries them'
  }),
  enclave: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_.-]+$', description: 'enclave on the external Key Manager (created when missing)' }),
  key: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_.-]+$', description: 'seal/unseal key in that enclave (created when missing)' }),
  adminKey: Type.Union([SecretRefSchema, Type.String({ minLength: 1, maxLength: 256 })], {
    description: 'root/SysAdmin API key of the external Key Manager, used for provisioning only; { "$secret": … } or plain; stored sealed, never answered back'
  }),
  keepLocalHsm: Type.Optional(Type.Boolean({ description: 'stop after phase A: keep MINIO_KMS_HSM_KEY (default false)' })),
  replaceHsm: Type.Optional(Type.Boolean({ description: 'a node config already has another hsm.<kind> block: go on, and remove it in phase B (default false: refused)' })),
  removeLocalSealedCopy: Type.Optional(Type.Boolean({ description: 'after phase B, remove the local HSM\'s sealed root key copy (CLUSTER:REMOVEHSM); irreversible (default false)' })),
  phaseB: Type.Optional(Type.Enum(['rolling', 'all-at-once'], {
    description: 'how phase B restarts the nodes: `rolling` (default) one node at a time, a canary first; `all-at-once` every node together ' +
      '(for a cluster whose root identity changes with the local HSM), with a write outage: needs allowWriteOutage'
  })),
  allowWriteOutage: Type.Optional(Type.Boolean({
    description: 'accept the all-at-once phase B\'s outage: every node restarts together, so the cluster accepts no writes, and reads fail, until they are all back (default false: refused)'
  })),
  dryRun: Type.Optional(Type.Boolean({ description: 'check everything (admin key, preflight, refusals, per-node diffs of both phases), touch nothing, store nothing' })),
  revealApiKey: Type.Optional(Type.Boolean({ description: 'answer the generated API key of the Admin identity once, in this response only' })),
  strategy: Type.Optional(Type.Object({
    healthyDeadline: Type.Optional(DurationSchema),
    progressDeadline: Type.Optional(DurationSchema),
    minHealthyTime: Type.Optional(DurationSchema)
  }, { additionalProperties: false }))
}, { additionalProperties: false })
export type HsmMigrationRequest = Static<typeof HsmMigrationRequestSchema>

/** Life of a migration. Terminal: succeeded, failed, aborted. */
export const HsmMigrationStateSchema = Type.Enum(['pending', 'running', 'paused', 'succeeded', 'failed', 'aborted'])
export type HsmMigrationState = Static<typeof HsmMigrationStateSchema>
export const TERMINAL_HSM_MIGRATION_STATES: readonly HsmMigrationState[] = ['succeeded', 'failed', 'aborted']

/** Where a migration is: each phase runs once, in this order (B and cleanup may be skipped). */
export const HsmMigrationPhaseSchema = Type.Enum(['provision', 'preflight', 'A', 'B', 'cleanup', 'done'])
export type HsmMigrationPhase = Static<typeof HsmMigrationPhaseSchema>

/** What provisioning did on the external Key Manager. */
export const HsmProvisionViewSchema = Type.Object({
  enclave: Type.Enum(['created', 'found']),
  identity: Type.Enum(['created', 'found']),
  key: Type.Enum(['created', 'found']),
  identityId: Type.String({ description: 'the h1: identity registered as Admin of the enclave (not a secret)' }),
  ms: Type.Number({ minimum: 0 })
})
export type HsmProvisionView = Static<typeof HsmProvisionViewSchema>

/** How phase B restarts the nodes (HsmMigrationRequest.phaseB). */
export const PhaseBModeSchema = Type.Enum(['rolling', 'all-at-once'])
export type PhaseBMode = Static<typeof PhaseBModeSchema>

/**
 * Body of POST /v1/hsm-migrations/:id/resume (optional): a failed migration whose phase B has not
 * completed may go on in the other phase B mode, e.g. all at once after a rolling phase B halted
 * because the cluster's identity changes; phase A's nodes are not touched again.
 */
export const HsmMigrationResumeSchema = Type.Object({
  phaseB: Type.Optional(PhaseBModeSchema),
  allowWriteOutage: Type.Optional(Type.Boolean({ description: 'needed with phaseB "all-at-once" (see HsmMigrationRequest)' }))
}, { additionalProperties: false })
export type HsmMigrationResume = Static<typeof HsmMigrationResumeSchema>

/**
 * The all-at-once phase B's write outage: from the first commit sent to the moment every node
 * accepted writes again (/v1/health/ready?write 200 on each), as the coordinator measured it.
 */
export const WriteOutageSchema = Type.Object({
  ms: Type.Number({ minimum: 0 }),
  from: Type.Number({ description: 'wall-clock ms: the first commit sent' }),
  to: Type.Number({ description: 'wall-clock ms: writes accepted again on every node' }),
  rolledBack: Type.Boolean({ description: 'true when the window ended on the rolled-back cluster' })
})
export type WriteOutage = Static<typeof WriteOutageSchema>

/** One node's part of one phase (A or B). */
export const HsmNodePhaseSchema = Type.Object({
  state: Type.Enum(['pending', 'running', 'done', 'failed', 'skipped', 'reverted']),
  /** minkms restarts of this node during this phase (InvocationIDs seen); 1 when all went well. */
  restarts: Type.Integer({ minimum: 0 }),
  verdict: Type.Optional(VerdictSchema),
  gate: Type.Optional(GateResultSchema),
  /** Phase A: the node's cluster status showed the external HSM configured and holding a sealed REK. */
  sealed: Type.Optional(Type.Boolean()),
  /** restart-to-verdict time of this node's step, ms (the benchmark's denominator). */
  restartToVerdictMs: Type.Optional(Type.Number({ minimum: 0 })),
  message: Type.Optional(Type.String())
})
export type HsmNodePhase = Static<typeof HsmNodePhaseSchema>

export const HsmMigrationNodeSchema = Type.Object({
  name: Type.String(),
  phases: Type.Object({ A: Type.Optional(HsmNodePhaseSchema), B: Type.Optional(HsmNodePhaseSchema) })
})
export type HsmMigrationNode = Static<typeof HsmMigrationNodeSchema>

/** A migration as GET /v1/hsm-migrations/:id shows it. */
export const HsmMigrationSchema = Type.Object({
  id: Type.String(),
  cluster: Type.String(),
  external: Type.Array(Type.String()),
  enclave: Type.String(),
  key: Type.String(),
  keepLocalHsm: Type.Boolean(),
  replaceHsm: Type.Boolean(),
  removeLocalSealedCopy: Type.Boolean(),
  /** How phase B restarts the nodes (absent in migrations stored before the mode existed: rolling). */
  phaseB: Type.Optional(PhaseBModeSchema),
  /** The all-at-once phase B's step while it runs: staging, committing, rolling back. */
  phaseBStep: Type.Optional(Type.Enum(['staging', 'committing', 'rolling-back'])),
  /** The all-at-once phase B's measured write outage (once writes were accepted again). */
  writeOutage: Type.Optional(WriteOutageSchema),
  state: HsmMigrationStateSchema,
  phase: HsmMigrationPhaseSchema,
  createdBy: Type.String(),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  finishedAt: Type.Optional(Type.Number()),
  provision: Type.Optional(HsmProvisionViewSchema),
  preflight: Type.Optional(Type.Array(ExternalKmsPreflightResultSchema)),
  /** Warnings that did not stop the migration (an external server down that another one covers). */
  warnings: Type.Array(Type.String()),
  /** The rollouts each phase ran (GET /v1/rollouts/:id for their detail). */
  rollouts: Type.Object({ A: Type.Optional(Type.String()), B: Type.Optional(Type.String()) }),
  nodes: Type.Array(HsmMigrationNodeSchema),
  message: Type.Optional(Type.String({ description: 'one sentence: why the migration is where it is (which node, which phase, why)' }))
})
export type HsmMigration = Static<typeof HsmMigrationSchema>

/** The answer to POST /v1/hsm-migrations: the migration (201), or the dry run's findings (200). */
export const HsmMigrationStartAnswerSchema = Type.Object({
  migration: Type.Optional(HsmMigrationSchema),
  dryRun: Type.Optional(Type.Object({
    ok: Type.Boolean({ description: 'a real run would start' }),
    problems: Type.Array(Type.String({ description: 'each refusal, naming the node, server or block' })),
    warnings: Type.Array(Type.String()),
    provision: Type.Optional(Type.Object({ enclave: Type.Enum(['create', 'found']), identity: Type.Enum(['create', 'found']), key: Type.Enum(['create', 'found']) })),
    preflight: Type.Array(ExternalKmsPreflightResultSchema),
    /** Masked per-node diffs of each phase's change. */
    plans: Type.Object({ A: Type.Optional(Type.Unknown()), B: Type.Optional(Type.Unknown()) })
  })),
  /** Only with revealApiKey: the Admin identity's API key, this once. */
  apiKey: Type.Optional(Type.String())
})
export type HsmMigrationStartAnswer = Static<typeof HsmMigrationStartAnswerSchema>

/**
 * One event of a migration: its own (type `migration`, `provision`, `preflight`, `phase`) and
 * every event of the rollouts its phases ran, forwarded with `phase` set. Indexes are the
 * migration's own: from 0, no gaps (resume with ?from=).
 */
export const HsmMigrationEventSchema = Type.Object({
  ...RolloutEventSchema.properties,
  type: Type.Enum(['migration', 'provision', 'preflight', 'phase', 'rollout', 'step', 'apply', 'journal', 'verdict', 'gate', 'stage', 'info', 'root-key']),
  phase: Type.Optional(HsmMigrationPhaseSchema)
})
export type HsmMigrationEvent = Static<typeof HsmMigrationEventSchema>

/** `keyroll hsm migrate --report FILE` and `npm run demo --report FILE`. */
export const HsmMigrationReportSchema = Type.Object({
  id: Type.String(),
  result: Type.Enum(['succeeded', 'failed']),
  durationMs: Type.Number({ minimum: 0 }),
  message: Type.Optional(Type.String()),
  phaseB: Type.Optional(PhaseBModeSchema),
  /** The all-at-once phase B's write outage, ms (first commit sent → writes accepted on every node). */
  writeOutageMs: Type.Optional(Type.Number({ minimum: 0 })),
  nodes: Type.Array(Type.Object({
    name: Type.String(),
    restarts: Type.Integer({ minimum: 0, description: 'minkms restarts of the node over every phase' }),
    phases: Type.Object({
      A: Type.Optional(Type.Object({ verdict: Type.Optional(Type.String()), gate: Type.Optional(GateResultSchema), restartToVerdictMs: Type.Optional(Type.Number()) })),
      B: Type.Optional(Type.Object({ verdict: Type.Optional(Type.String()), gate: Type.Optional(GateResultSchema), restartToVerdictMs: Type.Optional(Type.Number()) }))
    })
  }))
})
export type HsmMigrationReport = Static<typeof HsmMigrationReportSchema>
