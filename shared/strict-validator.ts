// The validator compiler of both APIs: TypeBox's, with stricter reading of the query string, path
// parameters and headers. Those arrive as text, and TypeBox converts text to the schema's type
// before checking it; its conversion is lenient in ways a client would not expect: `?limit=1.5`
// became 1, `?from=0x10` 16, `?from=1e3` 1000, `?from=` and `?from=%20` 0, `?from=true` 1. Here a
// number is read only from its plain decimal form (what String(n) gives back), and a boolean only
// from true/false/1/0; anything else is left as the text it was, so the check refuses it with a
// 400 naming the field ("must be integer"). Bodies are JSON and are never converted.
import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

/** fastify's validator compiler for TypeBox schemas, with strict text conversion. */
export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  return (value: unknown) => {
    // Convert works in place: it gets a copy, so the text each field arrived as is still there.
    const converted = httpPart === 'body' ? value : strictly(value, Value.Convert(schema, copyOf(value)))
    if (check.Check(converted)) return { value: converted }
    return { error: [...check.Errors(converted)] as never }
  }
}

/** `converted` with every field whose text was not a plain number or boolean put back as that text. */
export function strictly (raw: unknown, converted: unknown): unknown {
  if (!isRecord(raw) || !isRecord(converted)) return converted
  const out: Record<string, unknown> = { ...converted }
  for (const [k, v] of Object.entries(converted)) {
    const text = raw[k]
    if (typeof text !== 'string') continue
    if (typeof v === 'number' && String(v) !== text) out[k] = text
    else if (typeof v === 'boolean' && !BOOLEAN_TEXT.has(text.toLowerCase())) out[k] = text
  }
  return out
}

/** A copy of a query, params or headers object (its values are strings or arrays of them). */
function copyOf (v: unknown): unknown {
  return isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Array.isArray(x) ? [...x] : x])) : v
}

const BOOLEAN_TEXT = new Set(['true', 'false', '1', '0'])

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
