// Starts emulator nodes in-process for tests: temp data dirs, a shared test PKI, captured log
// lines, teardown registered where each node is created, and the real shared/minkms client.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { createMinkmsClient, type MinkmsClient } from '../../../../../shared/minkms/client.js'
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../../../lab/emulator/emulator.js'
import type { CommandEvent } from '../../../../lab/emulator/http-server.js'
import { EmulatorLog } from '../../../../lab/emulator/log.js'
import type { RootIdentityMode } from '../../../../lab/emulator/root-identity.js'
import { createTestPki, type TestPki } from './test-pki.js'

/** A fixed soft HSM key for tests (public: never use it elsewhere). */
export const TEST_HSM_KEY = 'hsm:aes256:' + Buffer.alloc(32, 0x42).toString('base64')

/** Log lines of one node, with a way to wait for a line. */
export class LogCapture {
  readonly lines: string[] = []
  readonly log: EmulatorLog
  #waiters: Array<{ re: RegExp, resolve: (line: string) => void }> = []

  constructor () {
    this.log = new EmulatorLog((line) => {
      this.lines.push(line)
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.re.test(line)) return true
        w.resolve(line)
        return false
      })
    })
  }

  /** Resolves with the first line (seen or future) matching `re`; rejects after `timeoutMs`. */
  async waitFor (re: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l))
    if (seen !== undefined) return seen
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line matching ${re} within ${timeoutMs} ms:\n${this.text()}`)), timeoutMs)
      this.#waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l) } })
    })
  }

  text (): string { return this.lines.join('\n') }
}

/** Per-test environment: a PKI and a scratch root for data dirs and configs. */
export interface TestEnv { t: Test, pki: TestPki, root: string }

export async function testEnv (t: Test): Promise<TestEnv> {
  const root = t.testdir({ pki: {} })
  return { t, pki: await createTestPki(join(root, 'pki')), root }
}

/** A fresh empty directory under the env's root. */
export function freshDir (env: TestEnv, prefix: string): string {
  return mkdtempSync(join(env.root, `${prefix}-`))
}

export interface ExternalHsmSpec { servers: string[], enclave: string, key: string, apiKey: string }

/** `hsm.hashicorp.vault` with AppRole auth, in the shape third-party minkms configs use. */
export interface VaultHsmSpec { server: string, approle: { id: string, secret: string }, transit: { engine?: string, key: string } }

/** A config file like the lab's (TLS + CA dir), optionally with `hsm.minio.minkms` and `hsm.hashicorp.vault`. */
export function configYaml (pki: TestPki, hsm?: ExternalHsmSpec, vault?: VaultHsmSpec): string {
  let text = `# test config
version: v1
tls:
  certs:
    - key: ${pki.keyPath}
      cert: ${pki.certPath}
  ca: ${pki.caDir}
`
  if (hsm !== undefined || vault !== undefined) text += 'hsm:\n'
  if (vault !== undefined) {
    const transit = { ...(vault.transit.engine !== undefined && { engine: vault.transit.engine }), key: vault.transit.key }
    text += `  hashicorp:
    vault:
      server: ${JSON.stringify(vault.server)}
      approle: ${JSON.stringify(vault.approle)}
      transit: ${JSON.stringify(transit)}
`
  }
  if (hsm !== undefined) {
    text += `  minio:
    minkms:
      server: [ ${hsm.servers.map((s) => JSON.stringify(s)).join(', ')} ]
      enclave: ${hsm.enclave}
      key: ${hsm.key}
      auth:
        key: ${hsm.apiKey}
`
  }
  return text
}

export interface NodeSpec {
  /** Data directory to (re)use; default: a fresh one. */
  dataDir?: string
  /** Config YAML text; default: configYaml(pki). */
  config?: string
  /** MINIO_KMS_HSM_KEY; default TEST_HSM_KEY; null: unset. */
  hsmKey?: string | null
  /** Fault files to write into a fresh faults dir. */
  faults?: Record<string, string>
  host?: string
  /** Listen address; default 127.0.0.1:0. */
  address?: string
  externalHsmTimeoutMs?: number
  onCommand?: (e: CommandEvent) => void
  signal?: AbortSignal
  /** The root identity mode (default: the emulator's, `stored`). */
  rootIdentity?: RootIdentityMode
}

/** Options for startEmulator from a spec (writes the config and faults files). */
export function emulatorOptions (env: TestEnv, spec: NodeSpec, logs: LogCapture): EmulatorOptions & { dataDir: string } {
  const dir = freshDir(env, 'node')
  const configPath = join(dir, 'config.yaml')
  writeFileSync(configPath, spec.config ?? configYaml(env.pki))
  const faultsDir = join(dir, 'faults')
  mkdirSync(faultsDir)
  for (const [name, content] of Object.entries(spec.faults ?? {})) writeFileSync(join(faultsDir, name), content)
  const hsmKey = spec.hsmKey === undefined ? TEST_HSM_KEY : spec.hsmKey
  return {
    dataDir: spec.dataDir ?? join(dir, 'data'),
    address: spec.address ?? '127.0.0.1:0',
    configPath,
    faultsDir,
    log: logs.log,
    ...(hsmKey !== null && { hsmKey }),
    ...(spec.host !== undefined && { host: spec.host }),
    ...(spec.externalHsmTimeoutMs !== undefined && { externalHsmTimeoutMs: spec.externalHsmTimeoutMs }),
    ...(spec.onCommand !== undefined && { hooks: { onCommand: spec.onCommand } }),
    ...(spec.signal !== undefined && { signal: spec.signal }),
    ...(spec.rootIdentity !== undefined && { rootIdentity: spec.rootIdentity })
  }
}

export interface TestNode { emu: RunningEmulator, logs: LogCapture, dataDir: string }

/** Starts a node and registers its teardown. */
export async function startNode (env: TestEnv, spec: NodeSpec = {}): Promise<TestNode> {
  const logs = new LogCapture()
  const opts = emulatorOptions(env, spec, logs)
  const emu = await startEmulator(opts)
  env.t.teardown(() => emu.close())
  return { emu, logs, dataDir: opts.dataDir }
}

/** Expects the start to fail; returns the FatalError message and the log lines. */
export async function failedStart (env: TestEnv, spec: NodeSpec = {}): Promise<{ message: string, logs: LogCapture }> {
  const logs = new LogCapture()
  try {
    const emu = await startEmulator(emulatorOptions(env, spec, logs))
    await emu.close()
  } catch (err) {
    return { message: (err as Error).message, logs }
  }
  throw new Error(`the node started although it should not have:\n${logs.text()}`)
}

/** A client of `host` with `apiKey`, closed at teardown. */
export function clientFor (env: TestEnv, host: string | string[], apiKey?: string): MinkmsClient {
  const client = createMinkmsClient({
    endpoints: Array.isArray(host) ? host : [host],
    ca: env.pki.caPem,
    timeoutMs: 5000,
    ...(apiKey !== undefined && { apiKey })
  })
  env.t.teardown(() => client.close())
  return client
}

/** Polls `check` until it returns true; rejects after `timeoutMs`. */
export async function waitUntil (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
