// Path and query parameters the routes share.
import Type from 'typebox'

/** A cluster name as the config allows it. */
export const ClusterName = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' })

/** A rollout (or HSM migration) id. */
export const RolloutId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' })

/** `:id` of a rollout (or HSM migration) route. */
export const RolloutParams = Type.Object({ id: RolloutId })

/** A page size. */
export const Limit = Type.Integer({ minimum: 1, maximum: 1000 })
