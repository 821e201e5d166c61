// The error catalogues (STYLE R9) and the one error handler that renders them.
import t, { type Test } from 'tap'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { readFile } from 'node:fs/promises'
import Type from 'typebox'
import { APPLY_ERROR_CODES } from '../../../agent/apply/apply-errors.js'
import { AGENT_ERRORS, ChangeConflictError, NotFoundError } from '../../../agent/errors.js'
import { OS_ERROR_CODES, OsPortError } from '../../../agent/os/errors.js'
import { CHANGE_ERROR_CODES, ChangeValidationError } from '../../../shared/change/errors.js'
import { EDIT_ERROR_CODES } from '../../../shared/edit/errors.js'
import { SHARED_ERRORS, errorHandlerPlugin } from '../../../shared/errors.js'
import { FS_ERROR_CODES } from '../../../shared/fs/errors.js'
import { HTTP_ERROR_CODES } from '../../../shared/https-client.js'
import { MINKMS_ERROR_CODES } from '../../../shared/minkms/errors.js'
import { captureLogger } from '../../helpers/fake-agent-core.js'

const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'

/** code → HTTP status for the @fastify/error catalogues (constructed with placeholder arguments). */
function fastifyCodes (catalogue: Record<string, unknown>): Array<[string, number | undefined]> {
  return Object.values(catalogue).map(ctor => {
    const e = new (ctor as new (...a: string[]) => { code: string, statusCode?: number })('a', 'b', 'c')
    return [e.code, e.statusCode]
  })
}

const catalogues: Record<string, string[]> = {
  'agent/errors.ts': fastifyCodes(AGENT_ERRORS).map(([c]) => c),
  'shared/errors.ts': fastifyCodes(SHARED_ERRORS).map(([c]) => c),
  'agent/os/errors.ts': Object.keys(OS_ERROR_CODES),
  'agent/apply/apply-errors.ts': Object.keys(APPLY_ERROR_CODES),
  'shared/change/errors.ts': Object.keys(CHANGE_ERROR_CODES),
  'shared/edit/errors.ts': Object.keys(EDIT_ERROR_CODES),
  'shared/fs/errors.ts': Object.keys(FS_ERROR_CODES),
  'shared/minkms/errors.ts': Object.keys(MINKMS_ERROR_CODES),
  'shared/https-client.ts': Object.keys(HTTP_ERROR_CODES)
}

const KNOWN_DUPLICATES: Record<string, string> = {}

t.test('every code is unique across catalogues and prefixed', async t => {
  const seen = new Map<string, string>()
  for (const [file, codes] of Object.entries(catalogues)) {
    for (const code of codes) {
      t.match(code, /^(AGT|CRD|SHR)_[A-Z0-9_]+$/, `${code} prefix`)
      if (KNOWN_DUPLICATES[code] === undefined) t.notOk(seen.has(code), `${code} in ${file} is also defined in ${seen.get(code) ?? ''}`)
      seen.set(code, file)
    }
  }
})

t.test('every code is documented once in docs/errors.md, with its HTTP status', async t => {
  const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
  const rows = new Map<string, string>()
  for (const m of doc.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)) {
    t.notOk(rows.has(m[1] ?? ''), `${m[1] ?? ''} documented twice`)
    rows.set(m[1] ?? '', (m[2] ?? '').trim())
  }
  for (const [file, codes] of Object.entries(catalogues)) {
    for (const code of codes) t.ok(rows.has(code), `${code} (${file}) is documented`)
  }
  for (const [code, status] of fastifyCodes({ ...AGENT_ERRORS, ...SHARED_ERRORS })) {
    if (status !== 500 || rows.get(code) !== '–') t.equal(rows.get(code), String(status), `${code} documented with HTTP ${String(status)}`)
  }
})

t.test('agent errors carry their HTTP status', async t => {
  t.equal(new ChangeConflictError('revision 3').statusCode, 409)
  t.equal(new AGENT_ERRORS.BadChangeError('x').statusCode, 400)
  t.equal(new AGENT_ERRORS.PathNotManagedError('/etc/passwd', 'config, env').statusCode, 400)
  t.equal(new NotFoundError('GET', '/x').statusCode, 404)
  t.match(new AGENT_ERRORS.PathNotManagedError('/etc/passwd', '/etc/minkms/config.yaml, /etc/default/minkms').message, /\/etc\/passwd is not a file this agent manages/)
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

t.test('malformed JSON body: 400 from fastify, rendered the same way', async t => {
  const { app } = await handlerApp(t)
  const r = await app.inject({ method: 'POST', url: '/typed', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { code: /^FST_ERR_CTP_/, statusCode: 400 })
})
