// The error catalogues (one per package, one CodedError base) and the one error handler that renders them.
import t, { type Test } from 'tap'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Type from 'typebox'
import { AGENT_CODES, ChangeConflictError, NotFoundError, OsPortError, StaleRevisionError } from '../../../agent/errors.js'
import { COORDINATOR_CODES } from '../../../coordinator/errors.js'
import { CHANGE_ERROR_CODES, ChangeValidationError } from '../../../shared/change/errors.js'
import { EDIT_ERROR_CODES, YamlParseError } from '../../../shared/edit/errors.js'
import { CLI_CODES } from '../../../coordinator/cli/errors.js'
import { PKI_CODES } from '../../../coordinator/pki/errors.js'
import { CodedError, SHARED_CODES, errorHandlerPlugin, type Catalogue } from '../../../shared/errors.js'
import { FS_ERROR_CODES, NotAFileError } from '../../../shared/fs/errors.js'
import { HttpTimeoutError } from '../../../shared/https-client.js'
import { MINKMS_ERROR_CODES, KeyNotFoundError } from '../../../shared/minkms/errors.js'
import { ProcessError } from '../../../shared/process-runner.js'
import { captureLogger } from '../../helpers/fake-agent-core.js'
import { repoRoot } from '../../lab/repo.js'

const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'

// One catalogue per package.
const catalogues: Record<string, Catalogue> = {
  'agent/errors.ts': AGENT_CODES,
  'coordinator/errors.ts': COORDINATOR_CODES,
  'shared/errors.ts': SHARED_CODES,
  'shared/change/errors.ts': CHANGE_ERROR_CODES,
  'shared/edit/errors.ts': EDIT_ERROR_CODES,
  'shared/fs/errors.ts': FS_ERROR_CODES,
  'shared/minkms/errors.ts': MINKMS_ERROR_CODES,
  'coordinator/cli/errors.ts': CLI_CODES,
  'coordinator/pki/errors.ts': PKI_CODES
}

const KNOWN_DUPLICATES: Record<string, string> = {}

t.test('every code is unique across catalogues and prefixed', async t => {
  const seen = new Map<string, string>()
  for (const [file, catalogue] of Object.entries(catalogues)) {
    for (const code of Object.keys(catalogue)) {
      t.match(code, /^(AGT|CRD|SHR)_[A-Z0-9_]+$/, `${code} prefix`)
      if (KNOWN_DUPLICATES[code] === undefined) t.notOk(seen.has(code), `${code} in ${file} is also defined in ${seen.get(code) ?? ''}`)
      seen.set(code, file)
    }
  }
})

t.test('every code is documented once in docs/errors.md, with its HTTP status', async t => {
  const doc = await readFile(join(repoRoot(), 'docs/errors.md'), 'utf8')
  const rows = new Map<string, string>()
  for (const m of doc.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)) {
    t.notOk(rows.has(m[1] ?? ''), `${m[1] ?? ''} documented twice`)
    rows.set(m[1] ?? '', (m[2] ?? '').trim())
  }
  const all = new Set<string>()
  for (const [file, catalogue] of Object.entries(catalogues)) {
    for (const [code, info] of Object.entries(catalogue)) {
      all.add(code)
      t.equal(rows.get(code), String(info.status), `${code} (${file}) documented with HTTP ${info.status}`)
    }
  }
  for (const code of rows.keys()) t.ok(all.has(code), `${code} in docs/errors.md is in a catalogue`)
})

t.test('every coded error is a CodedError whose status is its catalogue entry', async t => {
  const samples: CodedError[] = [
    new ChangeConflictError('revision 3'), new NotFoundError('GET', '/x'), new StaleRevisionError(1, 2),
    new OsPortError('AGT_UNIT_NOT_FOUND', 'no unit'), new ChangeValidationError([]), new YamlParseError('x', 1, 1),
    new NotAFileError('/x'), new HttpTimeoutError('headers', 5), new KeyNotFoundError(),
    new ProcessError('systemctl', 1, null, '', '', false)
  ]
  const table: Record<string, { status: number }> = Object.assign({}, ...Object.values(catalogues))
  for (const e of samples) {
    t.ok(e instanceof CodedError, `${e.name} is a CodedError`)
    t.equal(e.statusCode, table[e.code]?.status, `${e.name}: ${e.code} has its catalogue status`)
    t.equal(e.name, e.constructor.name)
  }
})

t.test('agent errors carry their HTTP status', async t => {
  t.equal(new ChangeConflictError('revision 3').statusCode, 409)
  t.equal(new NotFoundError('GET', '/x').statusCode, 404)
})

async function handlerApp (t: Test): Promise<{ app: ReturnType<typeof Fastify>, lines: string[] }> {
  const { logger, lines } = captureLogger()
  const app = Fastify({ loggerInstance: logger })
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  t.teardown(() => app.close())
  await app.register(errorHandlerPlugin, { notFound: (m, p) => new NotFoundError(m, p) })
  app.get('/conflict', async () => { throw new ChangeConflictError('revision 3') })
  app.get('/invalid', async () => { throw new ChangeValidationError([{ path: 'files.env.set.X', message: 'bad value', line: 4 }]) })
  app.get('/echo', async () => { throw Object.assign(new Error(`key ${API_KEY} is not valid`), { statusCode: 400 }) })
  app.get('/boom', async () => { throw new Error('disk /var/lib/keyroll-agent exploded') })
  app.get('/unit', async () => { throw new OsPortError('AGT_UNIT_RESTART_FAILED', 'systemctl restart minkms.service exited 1', { stderr: 'Access denied' }) })
  app.post('/typed', {
    schema: {
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ maximum: 10 })) }, { additionalProperties: false }),
      body: Type.Object({ name: Type.String(), size: Type.Integer() }, { additionalProperties: false })
    }
  }, async () => ({ ok: true }))
  await app.ready()
  return { app, lines }
}

t.test('4xx: rendered as written, with code and problems', async t => {
  const { app } = await handlerApp(t)
  const conflict = await app.inject('/conflict')
  t.equal(conflict.statusCode, 409)
  t.same(conflict.json(), { code: 'AGT_CHANGE_CONFLICT', message: 'another change is in progress on this node (revision 3); wait for it to finish', statusCode: 409 })
  const invalid = await app.inject('/invalid')
  t.equal(invalid.statusCode, 400)
  t.match(invalid.json(), { code: 'SHR_CHANGE_INVALID', problems: [{ path: 'files.env.set.X', message: 'bad value', line: 4 }] })
})

t.test('4xx: an echoed secret is masked', async t => {
  const { app } = await handlerApp(t)
  const r = await app.inject('/echo')
  t.equal(r.statusCode, 400)
  t.equal(r.json().message, 'key *** is not valid')
  t.equal(r.json().code, 'SHR_BAD_REQUEST', 'a 4xx without a code gets one')
})

t.test('5xx: generic message, full error in the log', async t => {
  const { app, lines } = await handlerApp(t)
  const r = await app.inject('/boom')
  t.equal(r.statusCode, 500)
  t.equal(r.json().code, 'SHR_INTERNAL')
  t.match(r.json().message, /^internal error \(request req-\d+\); the server log has the details$/)
  t.notMatch(r.body, /exploded|keyroll-agent/, 'no detail leaks')
  const logged = lines.map(l => JSON.parse(l) as { msg: string, err?: { message: string, stack: string } }).find(l => l.msg === 'request failed')
  t.match(logged?.err?.message, /disk \/var\/lib\/keyroll-agent exploded/)
  t.match(logged?.err?.stack, /app-errors\.test\.ts/)
})

t.test('5xx with one of our codes keeps the code, not the message', async t => {
  const { app } = await handlerApp(t)
  const r = await app.inject('/unit')
  t.equal(r.statusCode, 502)
  t.equal(r.json().code, 'AGT_UNIT_RESTART_FAILED')
  t.notMatch(r.body, /Access denied|systemctl/)
})

t.test('schema validation: 400 naming each field', async t => {
  const { app } = await handlerApp(t)
  const r = await app.inject({ method: 'POST', url: '/typed?limit=50', payload: { name: 'x', size: 1 } })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { code: 'SHR_VALIDATION', message: /querystring\.limit/, problems: [{ path: 'querystring.limit' }] })
  const body = await app.inject({ method: 'POST', url: '/typed', payload: { name: 1, extra: true } })
  t.equal(body.statusCode, 400)
  const paths = (body.json().problems as Array<{ path: string, message: string }>).map(p => `${p.path}: ${p.message}`)
  t.ok(paths.includes('body.extra: unknown field'), paths.join('; '))
  t.ok(paths.includes('body.size: missing'), paths.join('; '))
  t.ok(paths.some(p => p.startsWith('body.name: ')), paths.join('; '))
})

t.test('unknown route: the package 404 without the query string', async t => {
  const { app } = await handlerApp(t)
  const r = await app.inject(`/nope?key=${API_KEY}`)
  t.equal(r.statusCode, 404)
  t.same(r.json(), { code: 'AGT_NOT_FOUND', message: 'no route GET /nope', statusCode: 404 })
})

t.test('malformed JSON body: 400 from fastify, rendered the same way with a code of the catalogue', async t => {
  const { app } = await handlerApp(t)
  const r = await app.inject({ method: 'POST', url: '/typed', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(r.statusCode, 400)
  // fastify's own FST_ code is not one of ours: it never leaves the process.
  t.match(r.json(), { code: 'SHR_BAD_REQUEST', statusCode: 400, message: String })
})
