// A ChangeApplier on fakes at the OS ports (MemoryFileStore, FakeServiceManager, a scripted
// verifier) and a real state directory, for unit tests of the apply engine.
import type { Change } from '../../shared/change/change.js'
import { validateChange, type ChangeDefaults } from '../../shared/change/validate-change.js'
import { randomBytes } from 'node:crypto'
import { ApplyLock } from '../../agent/apply/apply-lock.js'
import { ChangeApplier } from '../../agent/apply/change-applier.js'
import type { Log, Verifier } from '../../agent/apply/transaction.js'
import { FakeServiceManager } from '../../agent/os/fake-service-manager.js'
import { MemoryFileStore } from '../../agent/os/memory-file-store.js'
import { AgentStateStore } from '../../agent/state/agent-state.js'
import { SealedBox } from '../../agent/state/sealed-box.js'
import type { ServiceManager } from '../../agent/os/service-manager.js'
import type { RestartOptions } from '../../agent/verify/restart-verifier.js'
import type { Verdict } from '../../agent/verify/verdict.js'
import { systemClock, type Clock } from '../../shared/clock.js'
import type { Planner } from '../../agent/apply/planner.js'

export const CONFIG_PATH = '/etc/minkms/config.yaml'
export const ENV_PATH = '/etc/default/minkms'
export const HSM_KEY = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='
export const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'

export const CONFIG = `# minkms configuration (comments must survive)
version: v1

# TLS is mandatory.
tls:
  certs:
    - key: /etc/minkms/certs/private.key   # server key
      cert: /etc/minkms/certs/public.crt
  ca: /etc/minkms/certs/CAs
`
export const ENV = `# minkms environment
MINIO_KMS_HSM_KEY=${HSM_KEY}
MINIO_KMS_VOLUME=/mnt/minio-kms
MINIO_KMS_OPTS="--host 10.77.0.11:7373 --config /etc/minkms/config.yaml"
`

/** The agent's verify defaults in these tests (what buildApplier's applier is given). */
export const AGENT_DEFAULTS: ChangeDefaults = { verify: { deadlineMs: 12_000, stableForMs: 250 } }

/** A spec validated the way the API and the CLI do it, with the agent's defaults. */
export function change (spec: unknown): Change {
  return validateChange(spec, { defaults: AGENT_DEFAULTS })
}

/** The HSM change of docs/design.md (HSM workflow step 3, optionally step 4). */
export function hsmChange (revision: number, opts: { apiKey?: string, unsetHsmKey?: boolean, restart?: string } = {}): Change {
  return change(hsmSpec(revision, opts))
}

/** The HSM change as a spec (the wire form a client sends). */
export function hsmSpec (revision: number, opts: { apiKey?: string, unsetHsmKey?: boolean, restart?: string } = {}): Record<string, unknown> {
  return {
    revision,
    files: {
      config: {
        set: {
          'hsm.minio.minkms': {
            server: ['10.77.0.51:7373'],
            enclave: 'aistor-key-manager',
            key: 'aistor-key-manager-hsm',
            auth: { key: { $secret: opts.apiKey ?? API_KEY } }
          }
        }
      },
      ...(opts.unsetHsmKey === true ? { env: { unset: ['MINIO_KMS_HSM_KEY'] } } : {})
    },
    ...(opts.restart === undefined ? {} : { restart: opts.restart }),
    verify: { deadline: '10s', stableFor: '0s' }
  }
}

/**
 * A verifier that answers from a script: each restart takes the next entry (true = ok). It
 * restarts the service it is given, the way RestartVerifier does, so tests count restarts there.
 */
export class ScriptedVerifier implements Verifier {
  readonly script: boolean[] = []
  verifies = 0
  /** Options of the last restart. */
  lastOpts: RestartOptions | undefined

  constructor (readonly service: ServiceManager) {}

  async restartAndVerify (opts: RestartOptions, beforeRestart?: () => Promise<void>): Promise<Verdict> {
    await this.service.prepareRestart?.()
    const baseline = { cursor: 'c', invocationId: 'old', nRestarts: 0, takenAt: Date.now() }
    await beforeRestart?.()
    await this.service.restart()
    this.verifies++
    this.lastOpts = opts
    const ok = this.script.shift() ?? true
    const now = Date.now()
    return {
      ok,
      reason: ok ? 'ready' : 'fatal-line',
      summary: ok ? 'minkms.service started and was ready' : 'minkms.service logged a fatal line',
      baseline,
      invocationId: 'new',
      lines: ok ? [{ at: now, message: '=> Server is up and running...', kind: 'ready' }] : [{ at: now, message: '2026-01-01 00:00:00 FATAL kms: boom', kind: 'fatal' }],
      timings: { restartAt: baseline.takenAt, verdictAt: now }
    }
  }
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} }

/** What a test may set on {@link buildApplier}'s applier besides its files. */
export interface ApplierFixtureOptions {
  clock?: Clock
  log?: Log
  planner?: Planner
  stagedTtlMs?: number
}

/** Builds an applier over fakes with its state in `stateDir`. */
export async function buildApplier (stateDir: string, files: Record<string, string | Uint8Array> = { [CONFIG_PATH]: CONFIG, [ENV_PATH]: ENV }, opts: ApplierFixtureOptions = {}) {
  const store = new MemoryFileStore(files)
  const service = new FakeServiceManager()
  const verifier = new ScriptedVerifier(service)
  const box = SealedBox.withKey(randomBytes(32))
  const state = new AgentStateStore(stateDir, box)
  await state.init()
  const lock = new ApplyLock(stateDir)
  const expected: Array<[string, string]> = []
  const applier = new ChangeApplier(
    { store, state, service, verifier, clock: opts.clock ?? systemClock, log: opts.log ?? silentLog, lock, writes: { expect: (n, s) => { expected.push([n, s]) } }, ...(opts.planner === undefined ? {} : { planner: opts.planner }) },
    { files: { config: CONFIG_PATH, env: ENV_PATH }, fingerprintKey: box.derive('fingerprint'), keep: 5, verify: AGENT_DEFAULTS.verify, ...(opts.stagedTtlMs === undefined ? {} : { stagedTtlMs: opts.stagedTtlMs }) }
  )
  return { applier, store, service, verifier, state, lock, expected }
}
