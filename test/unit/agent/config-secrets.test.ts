// Every config field named like a secret is accounted for. A field whose VALUE is a
// secret goes in SECRET_PATHS (masked in logs, never shown). A field whose value is the PATH of a
// file holding a secret (tls.key: a private key file) is not itself secret; it must be marked as
// a path in the schema (PATH_MARK, absolute-path pattern) AND listed in SECRET_FILE_PATHS, so that
// naming a new `apiKey: k1:…` field can never pass as "just a path".
import t from 'tap'
import Type, { type TSchema } from 'typebox'
import { AgentConfigSchema, PATH_MARK, SECRET_FILE_PATHS, SECRET_PATHS } from '../../../agent/config.js'

const SECRET_NAME = /token|password|secret|key/i

interface Field { path: string, schema: Record<string, unknown> }

function fields (schema: TSchema, at: string[] = []): Field[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties
  if (props === undefined) return [{ path: at.join('.'), schema: schema as Record<string, unknown> }]
  return Object.entries(props).flatMap(([k, v]) => [
    ...(((v as { properties?: unknown }).properties === undefined) ? [] : [{ path: [...at, k].join('.'), schema: v as Record<string, unknown> }]),
    ...fields(v, [...at, k])
  ])
}

/** Fields named like secrets that are neither secret paths nor marked secret-file paths. */
function unaccounted (schema: TSchema, secretPaths: readonly string[], fileSecretPaths: readonly string[]): string[] {
  return fields(schema)
    .filter(f => SECRET_NAME.test(f.path.split('.').at(-1) ?? ''))
    .filter(f => !secretPaths.includes(f.path))
    .filter(f => !(fileSecretPaths.includes(f.path) && f.schema[PATH_MARK] === true && f.schema.pattern === '^/'))
    .map(f => f.path)
}

t.test('every secret-looking field of the agent config is accounted for', async t => {
  t.same(unaccounted(AgentConfigSchema, SECRET_PATHS, SECRET_FILE_PATHS), [])
})

t.test('the lists name fields that exist', async t => {
  const all = fields(AgentConfigSchema).map(f => f.path)
  for (const p of [...SECRET_PATHS, ...SECRET_FILE_PATHS]) t.ok(all.includes(p), p)
  t.ok(SECRET_FILE_PATHS.includes('tls.key'))
  t.ok(SECRET_FILE_PATHS.includes('coordinator.key'))
})

t.test('the check fails for an unlisted secret field, and for a "path" that is not marked as one', async t => {
  const schema = Type.Object({
    db: Type.Object({ password: Type.String(), host: Type.String() }),
    apiKey: Type.String(),
    tokenFile: Type.String({ pattern: '^/', [PATH_MARK]: true }),
    keyFile: Type.String()
  })
  t.same(unaccounted(schema, [], []), ['db.password', 'apiKey', 'tokenFile', 'keyFile'])
  t.same(unaccounted(schema, ['db.password', 'apiKey'], ['tokenFile', 'keyFile']), ['keyFile'], 'keyFile is listed as a file but not marked as a path')
})
