// The shape every hostile-request test asks of a refusal: a 4xx with JSON
// `{ code, message, statusCode }`, a code that docs/errors.md lists, and no secret in the body.
import type { Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot } from '../lab/repo.js'
import type { RawAnswer } from './raw-http.js'

/** Every error code docs/errors.md documents. */
export const DOCUMENTED_CODES: ReadonlySet<string> = new Set([...(await readFile(join(repoRoot(), 'docs/errors.md'), 'utf8')).matchAll(/`([A-Z]{3}_[A-Z0-9_]+)`/g)].map(m => m[1] as string))

/** Asserts `a` is a documented 4xx that does not hold `secret`; `code`/`status` pin them when given. */
export function documentedRefusal (t: Test, a: RawAnswer, what: string, secret: string, code?: string | RegExp, status?: number): void {
  t.ok(a.status >= 400 && a.status < 500, `${what}: 4xx (got ${a.status})`)
  if (status !== undefined) t.equal(a.status, status, `${what}: ${status}`)
  t.match(a.headers, /content-type: application\/json/i, `${what}: JSON`)
  let body: { code?: unknown } = {}
  try { body = JSON.parse(a.body) } catch { t.fail(`${what}: JSON body (got ${a.body.slice(0, 80)})`) }
  t.match(body, { code: String, message: String, statusCode: a.status }, `${what}: { code, message, statusCode }`)
  t.ok(DOCUMENTED_CODES.has(String(body.code)), `${what}: ${String(body.code)} is in docs/errors.md`)
  if (code !== undefined) t.match(body.code, code, `${what}: code`)
  t.notOk(a.body.includes(secret), `${what}: no secret in the answer`)
}
