// Simulated agents for the coordinator's scale benchmark: one HTTPS server in this process that
// answers the agent API (and minkms's /v1/health/ready) for many nodes, each node on its own
// loopback port (so the coordinator holds one origin, one TLS connection pool, per node, as with
// real agents) with mutual TLS against the site CA on the agent API, as a real agent asks it (minkms's
// health path takes clients without a certificate). The node is the
// agent URL's path prefix (https://127.0.0.1:PORT/<node>). Answers are the agent API's shapes
// (shared/schemas), small and fixed; an apply is held open (events, then heartbeats) until close(),
// while the node's journal follow sends a line every `journalEveryMs`, so a rollout stays in
// progress and keeps producing events for the streams the benchmark holds open.
import { createServer as createHttps, type Server as HttpsServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { createServer as createNet, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'

/** TLS of the simulated agents: the agents' server certificate (IP 127.0.0.1) and the CA of their clients. */
export interface SimTls { cert: string | Buffer, key: string | Buffer, clientCa: string | Buffer }

/** What the simulated agents served. */
export interface SimCounts { requests: number, applies: number, follows: number }

/** Running simulated agents. */
export interface SimAgents {
  /** Each node's port, by node name. */
  ports: Map<string, number>
  counts: SimCounts
  close (): Promise<void>
}

const CHECKS = { config: { ok: true, message: 'parsed' }, unit: { ok: true, message: 'active (running)' }, journal: { ok: true, message: 'readable' } }
const INVOCATION = 'a'.repeat(32)
const JSON_TYPE = { 'content-type': 'application/json' }
const NDJSON = { 'content-type': 'application/x-ndjson' }

function status (node: string): string {
  return JSON.stringify({
    node,
    unit: { name: 'minkms.service', status: { activeState: 'active', subState: 'running', result: 'success', invocationId: INVOCATION, nRestarts: 0, mainPid: 4242, execMainStatus: 0, loadState: 'loaded' } },
    appliedRevision: 0,
    desiredRevision: 0,
    applying: false,
    drift: [],
    checks: CHECKS
  })
}

function plan (revision: number): string {
  const diff = '--- /etc/minkms/config.yaml\n+++ /etc/minkms/config.yaml\n@@ -3,1 +3,1 @@\n-    any: 5m\n+    any: 6m\n'
  return JSON.stringify({ revision, changed: true, restart: true, files: [{ name: 'config', path: '/etc/minkms/config.yaml', changed: true, diff }, { name: 'env', path: '/etc/default/minkms', changed: false, diff: '' }] })
}

let seq = 0
function entry (message: string): string {
  seq++
  return JSON.stringify({ cursor: `s=${(0xabc).toString(16)};i=${seq.toString(16)}`, realtimeUs: Date.now() * 1000, message, invocationId: INVOCATION, pid: 4242, priority: 6, unit: 'minkms.service' }) + '\n'
}

/** Starts simulated agents for `nodes`; `journalEveryMs` paces the lines of a journal follow. */
export async function startSimAgents (nodes: readonly string[], tls: SimTls, opts: { journalEveryMs?: number, heartbeatMs?: number } = {}): Promise<SimAgents> {
  const counts: SimCounts = { requests: 0, applies: 0, follows: 0 }
  const open = new Set<ServerResponse>()
  const timers = new Set<NodeJS.Timeout>()
  const every = opts.journalEveryMs ?? 100
  const heartbeat = opts.heartbeatMs ?? 5000

  const stream = (res: ServerResponse, lines: string[], tickMs: number, tick: () => string): void => {
    res.writeHead(200, NDJSON)
    for (const l of lines) res.write(l)
    open.add(res)
    const timer = setInterval(() => { res.write(tick()) }, tickMs)
    timers.add(timer)
    res.on('close', () => { clearInterval(timer); timers.delete(timer); open.delete(res) })
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    counts.requests++
    const url = new URL(req.url ?? '/', 'https://x')
    if (url.pathname === '/v1/health/ready') { res.writeHead(200, JSON_TYPE).end('{}'); return }
    // Any other minkms command (the gate provisioning its probe): "already exists", which it takes as done.
    if (url.pathname.startsWith('/v1/')) { req.resume(); res.writeHead(409, { 'content-type': 'text/plain' }).end('already exists'); return }
    // minkms's clients come without a certificate; the agent API wants the site CA's, as an agent does.
    if (!(req.socket as TLSSocket).authorized) { res.writeHead(401, JSON_TYPE).end(JSON.stringify({ code: 'AGT_CLIENT_CERT', message: 'client certificate required', statusCode: 401 })); return }
    const m = /^\/([^/]+)(\/.*)$/.exec(url.pathname)
    const node = m?.[1] ?? ''
    const path = m?.[2] ?? ''
    if (req.method === 'GET' && path === '/v1/status') { res.writeHead(200, JSON_TYPE).end(status(node)); return }
    if (req.method === 'GET' && path === '/health/ready') { res.writeHead(200, JSON_TYPE).end(JSON.stringify({ ok: true, checks: CHECKS })); return }
    if (req.method === 'GET' && path === '/v1/journal') {
      if (url.searchParams.get('follow') === null) { res.writeHead(200, NDJSON).end(entry('minkms: serving')); return }
      counts.follows++
      stream(res, [], every, () => entry(`minkms: request served (${node})`))
      return
    }
    if (req.method === 'POST' && (path === '/v1/plan' || path === '/v1/apply')) {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => { body += c })
      req.on('end', () => {
        const revision = Number((JSON.parse(body) as { revision?: unknown }).revision ?? 0)
        if (path === '/v1/plan') { res.writeHead(200, JSON_TYPE).end(plan(revision)); return }
        counts.applies++
        const at = Date.now()
        const ev = (step: string, st: string): string => JSON.stringify({ step, status: st, at }) + '\n'
        // Held at the restart: the rollout stays `applying` until the benchmark ends.
        stream(res, [ev('plan', 'done'), ev('lock', 'done'), ev('backup', 'done'), ev('write', 'done'), ev('restart', 'started')], heartbeat, () => '{}\n')
      })
      return
    }
    res.writeHead(404, JSON_TYPE).end(JSON.stringify({ code: 'AGT_NOT_FOUND', message: `no route ${req.method ?? ''} ${path}`, statusCode: 404 }))
  }

  const https: HttpsServer = createHttps({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 5000 }, handler)
  const sockets = new Set<Socket>()
  const listeners: NetServer[] = []
  const ports = new Map<string, number>()
  for (const node of nodes) {
    const l = createNet((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      https.emit('connection', socket)
    })
    await new Promise<void>((resolve, reject) => { l.once('error', reject); l.listen(0, '127.0.0.1', resolve) })
    listeners.push(l)
    ports.set(node, (l.address() as AddressInfo).port)
  }
  return {
    ports,
    counts,
    close: async () => {
      for (const t of timers) clearInterval(t)
      for (const r of open) r.destroy()
      for (const s of sockets) s.destroy()
      await Promise.all(listeners.map(async (l) => await new Promise((resolve) => l.close(resolve))))
    }
  }
}
