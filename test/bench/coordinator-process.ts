// The real keyroll-coordinator daemon for the scale benchmark, as systemd runs it
// (`node dist/coordinator/main.js serve --config FILE`) in its own process, so its RSS and its
// event loop are its own and not the benchmark's: a site PKI made by `keyroll pki init`'s code,
// an operator token in its SQLite store, its config file, and VmRSS from /proc.
import { once } from 'node:events'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createToken } from '../../coordinator/auth/tokens.js'
import { SqliteRolloutStore } from '../../coordinator/store/sqlite-rollout-store.js'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { processRunner } from '../../shared/process-runner.js'
import { repoRoot } from '../lab/repo.js'

/** A cluster of the config: its nodes' names; every node's agent and minkms on its own port. */
export interface SimCluster { name: string, nodes: string[] }

/** Paths of the site PKI (coordinator/pki/pki-layout.ts under `dir`). */
export interface SitePki { ca: string, server: { crt: string, key: string }, client: { crt: string, key: string } }

/** A running coordinator. */
export interface CoordinatorProcess {
  url: string
  token: string
  pid: number
  /** VmRSS of the process in kB. */
  rssKb (): Promise<number>
  stop (): Promise<void>
}

async function freePort (): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

/** Starts the daemon over `clusters` (ports by node name) in `dir`; resolves once /health/ready answers 200. */
export async function startCoordinator (dir: string, pki: SitePki, clusters: readonly SimCluster[], ports: ReadonlyMap<string, number>, ready: (url: string) => Promise<boolean>): Promise<CoordinatorProcess> {
  const stateDir = join(dir, 'state')
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  const adminKeyFile = join(dir, 'minkms-admin.key')
  await writeFile(adminKeyFile, generateApiKey('k1').key + '\n', { mode: 0o600 })
  const store = SqliteRolloutStore.inStateDir(stateDir)
  const { token } = await createToken(store, 'bench', 'operator')
  await store.close()
  const port = await freePort()
  const config = {
    listen: { host: '127.0.0.1', port },
    tls: { cert: pki.server.crt, key: pki.server.key, clientCa: pki.ca },
    stateDir,
    agents: { ca: pki.ca, cert: pki.client.crt, key: pki.client.key },
    clusters: clusters.map((c) => ({
      name: c.name,
      nodes: c.nodes.map((n) => ({ name: n, agent: `https://127.0.0.1:${ports.get(n) ?? 0}/${n}`, minkms: `127.0.0.1:${ports.get(n) ?? 0}` })),
      minkms: { ca: pki.ca, adminKeyFile }
    })),
    slots: { ttl: '2m' },
    log: { level: 'info' }
  }
  const file = join(dir, 'coordinator.yaml')
  await writeFile(file, JSON.stringify(config, null, 1))
  const child = processRunner.spawn(process.execPath, [join(repoRoot(), 'dist/coordinator/main.js'), 'serve', '--config', file])
  let stderr = ''
  let exitCode: number | null | undefined
  child.stdout?.resume() // its log (info, as the unit runs it) is read and dropped
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000) })
  const exited = child.exited.then((e) => { exitCode = e.code ?? -1 })
  const url = `https://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (!await ready(url).catch(() => false)) {
    if (exitCode !== undefined) throw new Error(`the coordinator exited ${exitCode}: ${stderr}`)
    if (Date.now() > deadline) throw new Error(`the coordinator was not ready within 60 s: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const pid = child.pid
  return {
    url,
    token,
    pid,
    rssKb: async () => Number(/^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN),
    stop: async () => {
      if (exitCode === undefined) child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}
