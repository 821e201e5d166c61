// Bodies that carry a change (POST /v1/plans, /v1/rollouts), read once at the edge: JSON
// `{ cluster, change, … }` (strict JSON: duplicate keys and __proto__ refused), or the YAML change
// spec file itself (`application/yaml`, `!secret` tags) with the rest in the query string. The
// change is validated here (shared/change) and only its wire form goes inward. Errors name the
// field (and, for YAML, the line) and never quote the text: a broken line may hold a secret.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Change } from '../../shared/change/change.js'
import { toChangeSpec } from '../../shared/change/change.js'
import { ChangeValidationError } from '../../shared/change/errors.js'
import { parseJsonStrict } from '../../shared/change/json-body.js'
import { CHANGE_LIMITS } from '../../shared/change/limits.js'
import { parseChangeSpec } from '../../shared/change/parse-change-spec.js'
import type { ChangeSpec } from '../../shared/change/schema.js'
import { validateChange } from '../../shared/change/validate-change.js'
import { parseDocument } from 'yaml'
import { BadInputError } from '../errors.js'

/** Media types read as a YAML change spec. */
export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml']

// Changes the YAML parser validated (with their lines) and what their spec said about the
// defaults; a handler validates anything else itself.
const fromYaml = new WeakMap<object, { change: Change, given: GivenDefaults }>()

/** Which of the defaulted fields a spec wrote itself. */
interface GivenDefaults { restart: boolean, deadline: boolean, stableFor: boolean }

function givenIn (has: (path: string[]) => boolean): GivenDefaults {
  return { restart: has(['restart']), deadline: has(['verify', 'deadline']), stableFor: has(['verify', 'stableFor']) }
}

function givenInJson (value: unknown): GivenDefaults {
  return givenIn((path) => {
    let v: unknown = value
    for (const k of path) {
      if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return false
      v = (v as Record<string, unknown>)[k]
    }
    return true
  })
}

/**
 * The wire form without the defaults the spec did not write: each agent then fills them from its
 * own config (its verify window is the operator's statement about that node), exactly as when
 * the same spec is sent to the agent directly.
 */
function withoutUnwritten (spec: ChangeSpec, given: GivenDefaults): ChangeSpec {
  const { restart, verify, ...rest } = spec
  const v = { ...(given.deadline && verify?.deadline !== undefined ? { deadline: verify.deadline } : {}), ...(given.stableFor && verify?.stableFor !== undefined ? { stableFor: verify.stableFor } : {}) }
  return { ...rest, ...(given.restart && restart !== undefined ? { restart } : {}), ...(Object.keys(v).length > 0 ? { verify: v } : {}) }
}

/**
 * Installs the body parsers on a route scope: strict JSON (one level of envelope above a change),
 * and YAML, which becomes `{ cluster: ?cluster, change: <validated>, planHash: ?planHash }`.
 */
export function changeBodyParsers (app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseJsonStrict(String(body), CHANGE_LIMITS.maxDepth + 1))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  app.addContentTypeParser(YAML_MEDIA_TYPES, { parseAs: 'string' }, (req: FastifyRequest, body, done) => {
    try {
      const query = req.query as Record<string, unknown>
      const cluster = query.cluster
      // Repeated (`?cluster=a&cluster=b`) arrives as a list: which one was meant is not ours to pick.
      for (const name of ['cluster', 'planHash']) {
        if (Array.isArray(query[name])) throw new BadInputError(`?${name}= is given more than once; give it once`)
      }
      if (typeof cluster !== 'string' || cluster === '') throw new BadInputError('a YAML change spec body needs the cluster in the query: ?cluster=NAME')
      const text = String(body)
      const change = parseChangeSpec(text, 'yaml')
      const doc = parseDocument(text)
      const given = givenIn((path) => doc.hasIn(path))
      const envelope: Record<string, unknown> = { cluster, change: {} }
      if (typeof query.planHash === 'string') envelope.planHash = query.planHash
      fromYaml.set(envelope.change as object, { change, given })
      done(null, envelope)
    } catch (err) {
      done(err as Error, undefined)
    }
  })
}

/** Media types a change route accepts, for its schema's `consumes`. */
export const CHANGE_MEDIA_TYPES = ['application/json', ...YAML_MEDIA_TYPES]

/**
 * The change of a parsed envelope in wire form. Validates a JSON change (throws
 * ChangeValidationError naming every problem, paths under `change.` as the body has them).
 */
export function wireChange (value: unknown): ChangeSpec {
  const yaml = typeof value === 'object' && value !== null ? fromYaml.get(value) : undefined
  if (yaml !== undefined) return withoutUnwritten(toChangeSpec(yaml.change), yaml.given)
  return withoutUnwritten(toChangeSpec(validateEnvelopeChange(value)), givenInJson(value))
}

function validateEnvelopeChange (value: unknown): Change {
  try {
    return validateChange(value)
  } catch (err) {
    if (!(err instanceof ChangeValidationError)) throw err
    throw new ChangeValidationError(err.problems.map(p => ({ ...p, path: p.path === '' ? 'change' : `change.${p.path}` })))
  }
}
