// A stand-in for keyroll-coordinator's API for the CLI's tests: fastify over TLS on 127.0.0.1 with
// a certificate from `keyroll pki init`, scripted routes, and every request recorded. Also the
// CLI's environment (KEYROLL_URL, KEYROLL_CA, KEYROLL_TOKEN_FILE) and captured output.
import Fastify, { type FastifyInstance } from 'fastify'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../../../coordinator/cli/run-cli.js'
import type { CliDeps } from '../../../../coordinator/cli/types.js'
import { subjectNames } from '../../../../coordinator/pki/names.js'
import { caPaths, coordinatorPaths } from '../../../../coordinator/pki/pki-layout.js'
import { initPki } from '../../../../coordinator/pki/site-pki.js'

export const TOKEN = 'krt_operator.Zq9w8e7r6t5y4u3i2o1p0aSdFgHjKl'

/** One request the stand-in received. */
export interface Call { method: string, url: string, authorization?: string, contentType?: string, body: unknown }

interface T { teardown: (fn: () => unknown) => void }

/** A directory removed at teardown. */
export async function tempDir (t: T): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyroll-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** The stand-in: `app` to add routes to before `start()`; `calls` records each request. */
export interface StandIn {
  app: FastifyInstance
  calls: Call[]
  dir: string
  env: Record<string, string>
  start: () => Promise<void>
}

export async function standIn (t: T): Promise<StandIn> {
  const dir = await tempDir(t)
  const pki = join(dir, 'pki')
  await initPki({ dir: pki, coordinatorName: 'coord', coordinatorNames: subjectNames(['127.0.0.1'], 'test'), agents: [] })
  const server = coordinatorPaths(pki).server
  const app = Fastify({ https: { cert: await readFile(server.crt), key: await readFile(server.key) } })
  app.addContentTypeParser('application/yaml', { parseAs: 'string' }, (_req, body, done) => { done(null, body) })
  const calls: Call[] = []
  app.addHook('preHandler', async (req) => {
    calls.push({
      method: req.method,
      url: req.url,
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
      ...(req.headers['content-type'] === undefined ? {} : { contentType: req.headers['content-type'] }),
      body: req.body
    })
  })
  const tokenFile = join(dir, 'token')
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
  const env: Record<string, string> = { KEYROLL_CA: caPaths(pki).crt, KEYROLL_TOKEN_FILE: tokenFile }
  t.teardown(async () => { await app.close() })
  return {
    app,
    calls,
    dir,
    env,
    start: async () => {
      await app.listen({ host: '127.0.0.1', port: 0 })
      const a = app.server.address()
      env.KEYROLL_URL = `https://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`
    }
  }
}

/** What one CLI run printed and returned. */
export interface Run { code: number, stdout: string, stderr: string }

/** Runs the CLI with captured output; `tty` makes stdout look like a terminal. */
export async function cli (argv: string[], deps: CliDeps, opts: { tty?: boolean } = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: { write: (s: string) => { stdout += s }, ...(opts.tty === true ? { isTTY: true, columns: 100 } : {}) },
    stderr: { write: (s: string) => { stderr += s } }
  }, { reconnectDelayMs: () => 0, httpTimeoutMs: 5000, ...deps })
  return { code, stdout, stderr }
}
