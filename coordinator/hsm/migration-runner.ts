// One migration's run: its phases in order, each state change stored before its effect, so a
// coordinator killed anywhere resumes from the store (`run()` again over the stored record):
// - provision: the API key was generated and sealed when the migration was stored, so a re-run
//   finds what the first run made and creates nothing;
// - preflight (and the refusals that need the nodes): reads only, run again;
// - A and B: the phase's revision is stored before its rollout starts, and the rollout's id right
//   after; a rollout started but not yet noted is found again on the cluster by that revision.
//   The engine resumes the rollout itself; the runner follows it again, forwarding its events from
//   where the migration's events stopped;
// - cleanup: asks the nodes first, so a removal already done is not sent again.
// A failed phase leaves the migration `failed` with the phase kept, and a resume runs the phase
// again with a new rollout of the same change: nodes already on it plan no change and are not
// restarted.
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/logger.js'
import type { HsmMigration, HsmMigrationPhase } from '../../shared/schemas/hsm-migration.js'
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import type { Secret } from '../../shared/secrets/secret.js'
import { errorText } from '../engine/error-text.js'
import type { AgentClient, AgentPreflightClient, AgentStagingClient } from '../ports/agent-client.js'
import type { ClusterHsmAdmin, ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import type { HsmMigrationStore, HsmMigrationWork, PhaseRuns } from '../store/hsm-migration-store.js'
import type { AuditEntry } from '../store/rollout-store.js'
import type { ExternalKmsAccess } from './external-kms.js'
import { EXTERNAL_HSM_NAME, LOCAL_HSM_NAME } from './hsm-names.js'
import { phaseAChange, phaseBChange } from './migration-changes.js'
import { checkNodes, readNodeState, type NodeState } from './migration-checks.js'
import type { MigrationEventLog } from './migration-event-log.js'
import { failureOf, nodePhaseOf, noteBaselines, noteRun } from './phase-view.js'
import { forwardedCount } from './forwarded-events.js'
import { identityChangeMessage, identityChangeOf, IDENTITY_JOURNAL_TAIL, refusedByPeers, shortIdentity } from './identity-change.js'
import { sealSecrets, type MigrationSecrets } from './migration-secrets.js'
import type { Sealer } from '../engine/sealer.js'
import { resolveStrategy } from '../engine/strategy.js'
import { runAllAtOnceB } from './all-at-once-phase-b.js'

/** What the runner asks after phase B: adopt the cluster's root API key if it changed (identities only come back). */
export interface RootKeyAdopter {
  adopt (cluster: string, opts?: { nodes?: readonly NodeRef[], signal?: AbortSignal }): Promise<{ changed: boolean, from: string, to: string, reason?: string }>
}

/** What a runner needs (the orchestrator hands in its own). */
export interface RunnerDeps {
  store: HsmMigrationStore
  rollouts: RolloutControl
  agents: AgentClient & AgentPreflightClient
  probe: ClusterProbe & ClusterHsmAdmin
  audit: { appendAudit: (e: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>) => Promise<unknown> }
  external: ExternalKmsAccess
  events: MigrationEventLog
  sealer: Sealer
  clock: Clock
  log: Logger
  pollMs: number
  preflightTimeoutMs?: number
  /** The agents' staging calls (the all-at-once phase B); absent when the agent client has none. */
  staging?: AgentStagingClient
  rootKeys?: RootKeyAdopter
}

const TERMINAL_ROLLOUT = new Set(['succeeded', 'failed', 'aborted', 'reverted'])

/** Stops the run without changing what is stored (close, pause between phases, abort). */
class Halt extends Error {}

/** Runs one migration until it ends, pauses or the runner is closed. */
export class MigrationRunner {
  #m: HsmMigration
  #work: HsmMigrationWork
  readonly #secrets: MigrationSecrets
  readonly #nodes: NodeRef[]
  readonly #d: RunnerDeps
  readonly #stop = new AbortController()
  #wake: (() => void) | undefined
  /**
   * Something changed since the run last looked (a rollout event, a steering command). A change
   * that comes while the run is reading, not sleeping, has no sleep to cut short: without this
   * flag the run would sleep a whole pollMs after it (a rollout's last event, say).
   */
  #stale = false
  /** The rollout the current phase follows, when one runs. */
  rolloutId: string | undefined
  /** Resolves when run() returned. */
  finished: Promise<void> = Promise.resolve()

  /** The preflight's node reads, started while provisioning (see #provision); the next preflight of this run takes them. */
  #early: Promise<Settled<NodeState>> | undefined
  readonly #onStopped: () => void
  #saving: Promise<unknown> = Promise.resolve()

  /** `onStopped` is called once each run ends (the orchestrator forgets the runner). */
  constructor (m: HsmMigration, work: HsmMigrationWork, secrets: MigrationSecrets, nodes: NodeRef[], deps: RunnerDeps, onStopped: () => void = () => {}) {
    this.#onStopped = onStopped
    this.#m = m
    this.#work = work
    this.#secrets = secrets
    this.#nodes = nodes
    this.#d = deps
  }

  get migration (): HsmMigration { return this.#m }
  get work (): HsmMigrationWork { return this.#work }

  /** Starts the run in the background; `finished` resolves when it stops. */
  start (): void {
    this.finished = this.#run().catch((err: unknown) => {
      this.#d.log.error({ err: errorText(err), migration: this.#m.id }, 'the HSM migration runner stopped on an unexpected error')
    }).finally(() => { this.#onStopped() })
  }

  /** Stops at once (nothing stored): a restart resumes from the store. */
  async close (): Promise<void> {
    this.#stop.abort(new Halt('closed'))
    this.#wake?.()
    await this.finished
  }

  /** Wakes the run so it looks at its flags and its rollout again. */
  poke (): void {
    this.#stale = true
    this.#wake?.()
  }

  /** Applies `edit` to the view (and work), stores both, then tells subscribers what changed. */
  // Saves are chained: the run and a steering command (pause, abort) may save at once, and each
  // edit must apply to what the other stored.
  async save (edit: (m: HsmMigration, w: HsmMigrationWork) => void, sealedSecrets?: string): Promise<HsmMigration> {
    const next = this.#saving.then(async () => {
      const m = structuredClone(this.#m)
      const w = structuredClone(this.#work)
      edit(m, w)
      m.updatedAt = this.#d.clock.now()
      await this.#d.store.saveMigration(m, w, sealedSecrets)
      this.#m = m
      this.#work = w
      return m
    })
    this.#saving = next.catch(() => undefined)
    return await next
  }

  async event (type: 'migration' | 'provision' | 'preflight' | 'phase' | 'info' | 'root-key', message: string, data?: unknown): Promise<void> {
    await this.#d.events.append(this.#m.id, {
      at: this.#d.clock.now(), type, message, phase: this.#m.phase, ...(data === undefined ? {} : { data })
    }, this.#secretList())
  }

  async #run (): Promise<void> {
    // Node reads a previous run started for its preflight are not this run's.
    this.#early = undefined
    try {
      for (;;) {
        this.#checkStop()
        const phase = this.#m.phase
        if (phase === 'done') return await this.#finish()
        if (this.#work.abortRequested === true) return await this.#end('aborted', `aborted before ${phaseName(phase)}`)
        if (this.#work.pauseRequested === true) return
        const next = await this.#phase(phase)
        if (next === undefined) return
        await this.save((m) => { m.phase = next })
        await this.event('phase', next === 'done' ? 'every phase done' : `phase ${next}`, { phase: next })
      }
    } catch (err) {
      if (err instanceof Halt || this.#stop.signal.aborted) return
      await this.fail(`${phaseName(this.#m.phase)} failed: ${errorText(err)}`)
    }
  }

  /** Runs one phase; answers the next, or undefined when the migration stopped in it. */
  async #phase (phase: Exclude<HsmMigrationPhase, 'done'>): Promise<HsmMigrationPhase | undefined> {
    switch (phase) {
      case 'provision': return await this.#provision()
      case 'preflight': return await this.#preflight()
      case 'A': return await this.#rolloutPhase('A')
      case 'B': return this.#m.phaseB === 'all-at-once' ? await this.#allAtOnceB() : await this.#rolloutPhase('B')
      case 'cleanup': return await this.#cleanup()
    }
  }

  // The preflight's node reads that need nothing provisioned (health, revision, HSM blocks) are
  // started here, beside the provisioning on the external Key Manager, and handed to the preflight
  // that follows in this run. They read only; the refusals they lead to are the preflight's, as
  // before, and come before any node is touched.
  async #provision (): Promise<HsmMigrationPhase | undefined> {
    const adminKey = this.#secrets.adminKey
    if (adminKey === undefined) return 'preflight' // provisioned by an earlier run (the key is dropped after)
    const started = this.#d.clock.monotonic()
    await this.event('provision', `provisioning enclave ${this.#m.enclave}, its Admin identity and key ${this.#m.key} on ${this.#m.external.join(', ')}`)
    const early = settled(this.#nodeState())
    this.#early = early
    const r = await this.#d.external.provision(this.#m.cluster, { servers: this.#m.external, adminKey }, { enclave: this.#m.enclave, key: this.#m.key, apiKey: this.#secrets.apiKey })
      .catch(async (err: unknown) => {
        // Stopped here: the reads end before the run does.
        await early
        throw err
      })
    const view = { enclave: r.enclave, identity: r.identity, key: r.key, identityId: r.identityId, ms: this.#d.clock.monotonic() - started }
    // The admin key was for provisioning only: the stored secrets keep the generated key alone.
    await this.save((m) => { m.provision = view }, sealSecrets(this.#d.sealer, { apiKey: this.#secrets.apiKey }))
    this.#secrets.adminKey = undefined
    await this.event('provision', `provisioned: enclave ${r.enclave}, identity ${r.identityId} ${r.identity}, key ${r.key}`, view)
    return 'preflight'
  }

  #nodeState (): Promise<NodeState> {
    return readNodeState({
      agents: this.#d.agents,
      probe: this.#d.probe,
      nodes: this.#nodes,
      replaceHsm: this.#m.replaceHsm,
      ...(this.#work.revisionA === undefined ? {} : { revision: this.#work.revisionA }),
      signal: this.#stop.signal
    })
  }

  async #preflight (): Promise<HsmMigrationPhase | undefined> {
    await this.event('preflight', `preflight from ${this.#nodes.length} node(s) to ${this.#m.external.join(', ')}`)
    const early = this.#early
    this.#early = undefined
    const checks = await checkNodes({
      agents: this.#d.agents,
      probe: this.#d.probe,
      nodes: this.#nodes,
      request: { servers: [...this.#m.external], enclave: this.#m.enclave, key: this.#m.key, apiKey: { $secret: this.#secrets.apiKey.reveal() }, ...(this.#d.preflightTimeoutMs === undefined ? {} : { timeoutMs: this.#d.preflightTimeoutMs }) },
      replaceHsm: this.#m.replaceHsm,
      ...(this.#work.revisionA === undefined ? {} : { revision: this.#work.revisionA }),
      ...(early === undefined ? {} : { state: early.then(unwrap) }),
      signal: this.#stop.signal
    })
    const blocks = [...new Set(Object.values(checks.otherHsmBlocks).flat())].sort()
    await this.save((m, w) => {
      m.preflight = checks.preflight
      m.warnings = [...new Set([...m.warnings, ...checks.warnings])]
      if (w.revisionA === undefined && checks.nextRevision !== undefined) w.revisionA = checks.nextRevision
      w.otherHsmBlocks = blocks
    })
    for (const w of checks.warnings) await this.event('preflight', `warning: ${w}`)
    await this.event('preflight', checks.problems.length === 0 ? 'preflight passed on every node' : `refused: ${checks.problems.join('; ')}`, { preflight: checks.preflight, problems: checks.problems, warnings: checks.warnings })
    if (checks.problems.length > 0) {
      await this.fail(`refused before any node was touched: ${checks.problems.join('; ')}`)
      return undefined
    }
    return 'A'
  }

  async #rolloutPhase (phase: 'A' | 'B'): Promise<HsmMigrationPhase | undefined> {
    let id = this.#m.rollouts[phase]
    if (id === undefined) id = await this.#startRollout(phase)
    if (id === undefined) return undefined
    const r = await this.#follow(phase, id)
    if (r === undefined) return undefined
    if (r.state !== 'succeeded') {
      if (this.#work.abortRequested === true || r.state === 'aborted') {
        await this.#end('aborted', `aborted in phase ${phase}: ${r.message ?? 'the rollout was aborted'}`)
      } else {
        const changed = phase === 'B' ? await this.#identityChange(r) : undefined
        const halted = phase === 'B' ? '; every node still has its local HSM where phase B did not pass' : ''
        await this.fail(changed ?? `phase ${phase} failed on ${failureOf(r)}${halted}`)
      }
      return undefined
    }
    if (phase === 'A') return await this.#afterA()
    await this.#adoptRootKey()
    return this.#m.removeLocalSealedCopy ? 'cleanup' : 'done'
  }

  /** Phase B on every node at once (all-at-once-phase-b.ts): the same sealed-copy check and revision as the rolling one. */
  async #allAtOnceB (): Promise<HsmMigrationPhase | undefined> {
    const staging = this.#d.staging
    if (staging === undefined) {
      await this.fail('phase B refused: this coordinator\'s agent client cannot stage changes, which the all-at-once phase B needs; no node was touched in phase B')
      return undefined
    }
    const self = this.#m.id
    const done = await runAllAtOnceB({
      migration: this.#m,
      work: this.#work,
      nodes: this.#nodes,
      signal: this.#stop.signal,
      save: async (edit) => await this.save(edit),
      append: async (e) => {
        await this.#d.events.append(self, { at: this.#d.clock.now(), phase: this.#m.phase, ...e }, this.#secretList())
      },
      fail: async (message) => { await this.fail(message) },
      sealedCopiesHeld: async () => await this.#phaseBAllowed(await this.#sealedCopies()),
      revision: async () => await this.#revision('B'),
      change: (revision) => phaseBChange(revision, this.#m.replaceHsm ? this.#work.otherHsmBlocks ?? [] : [])
    }, {
      agents: this.#d.agents,
      staging,
      probe: this.#d.probe,
      clock: this.#d.clock,
      log: this.#d.log,
      pollMs: this.#d.pollMs,
      healthyDeadlineMs: resolveStrategy(this.#work.strategy).healthyDeadlineMs
    })
    if (!done) return undefined
    await this.#adoptRootKey()
    return this.#m.removeLocalSealedCopy ? 'cleanup' : 'done'
  }

  /**
   * After phase B every node runs without the local HSM: if minkms derives its root API key from
   * the HSM, the cluster's root key changed with it. The coordinator adopts the new one (kept
   * sealed; its root calls use it) and the event names the identities only. Never fails the
   * migration: the probe adopts on its own when a root call is refused, and the answer says why.
   */
  async #adoptRootKey (): Promise<void> {
    if (this.#d.rootKeys === undefined) return
    let r: Awaited<ReturnType<RootKeyAdopter['adopt']>>
    try {
      r = await this.#d.rootKeys.adopt(this.#m.cluster, { nodes: this.#nodes, signal: this.#stop.signal })
    } catch (err) {
      this.#checkStop()
      await this.event('root-key', `could not look at the cluster's root API key after phase B: ${errorText(err)}`)
      return
    }
    if (r.changed) {
      await this.event('root-key', `the cluster's root API key changed (${shortIdentity(r.from)} → ${shortIdentity(r.to)}); the coordinator keeps it sealed and uses it for its own cluster calls; hand it over with \`keyroll cluster root-key ${this.#m.cluster} --out FILE\``, { from: r.from, to: r.to })
    } else if (r.reason !== undefined) {
      await this.event('root-key', `the cluster's root API key was not adopted: ${r.reason}`, { from: r.from })
    }
  }

  /**
   * When phase B's failed node restarted cleanly but its peers refused it, whether its root
   * identity changed with the local HSM gone (its journal's banners, read through its agent):
   * the message then says so and what to do. Undefined when that is not what happened or cannot
   * be told (the agent unreachable, the banners gone): the failure is then reported as any other.
   */
  async #identityChange (r: Rollout): Promise<string | undefined> {
    const step = r.nodes.find((s) => (s.state === 'failed' || s.state === 'reverted') && refusedByPeers(s))
    const node = step === undefined ? undefined : this.#nodes.find((n) => n.name === step.node)
    if (step === undefined || node === undefined) return undefined
    try {
      const entries = await this.#d.agents.journalTail(node, { limit: IDENTITY_JOURNAL_TAIL, signal: this.#stop.signal })
      const change = identityChangeOf(step, entries)
      if (change === undefined) return undefined
      await this.event('phase', `${node.name}'s root identity changed with phase B's change: ${shortIdentity(change.before)} → ${shortIdentity(change.after)}`, { node: node.name, identityBefore: change.before, identityAfter: change.after })
      return `phase B failed: ${identityChangeMessage(node.name, step, change, this.#m.id)}`
    } catch (err) {
      if (this.#stop.signal.aborted) throw err
      this.#d.log.warn({ err: errorText(err), migration: this.#m.id, node: node.name }, "could not read the node's journal to tell whether its root identity changed")
      return undefined
    }
  }

  /**
   * After phase A's rollout. With keepLocalHsm the migration ends here, once every node shows the
   * external HSM configured and holding its sealed root key. Otherwise phase B follows, and its
   * start makes that check (so a resume that starts phase B again makes it too).
   */
  async #afterA (): Promise<HsmMigrationPhase | undefined> {
    if (!this.#m.keepLocalHsm) return 'B'
    const missing = await this.#sealedCopies()
    if (missing.length > 0) {
      await this.fail(`phase A is not complete: the external HSM ${EXTERNAL_HSM_NAME} is not configured and sealing on ${missing.join(', ')}`)
      return undefined
    }
    await this.event('phase', `every node shows ${EXTERNAL_HSM_NAME} configured and holding a sealed copy of its root key`)
    return 'done'
  }

  /**
   * Phase B takes the local HSM away, so before each new phase B rollout (the first, and each
   * one a resume starts after a halt) every node must hold the external HSM's sealed copy: a
   * copy missing (never made, or removed since by CLUSTER:REMOVEHSM or a restored data
   * directory) would leave that node unable to unseal. `missing` is that check's answer (made
   * beside the plan, see #startRollout). False when the migration was failed here.
   */
  async #phaseBAllowed (missing: readonly string[]): Promise<boolean> {
    if (missing.length > 0) {
      await this.fail(`phase B refused: the external HSM ${EXTERNAL_HSM_NAME} is not configured and sealing on ${missing.join(', ')}; no node was touched in phase B`)
      return false
    }
    await this.event('phase', `every node shows ${EXTERNAL_HSM_NAME} configured and holding a sealed copy of its root key`)
    return true
  }

  /** Asks every node's own cluster status; stores each node's answer in phase A's view; answers the nodes lacking it. */
  async #sealedCopies (): Promise<string[]> {
    const missing: string[] = []
    const sealed: Record<string, boolean> = {}
    await Promise.all(this.#nodes.map(async (n) => {
      try {
        const s = await this.#d.probe.hsmStatus(n, { signal: this.#stop.signal })
        const ok = s.configured.includes(EXTERNAL_HSM_NAME) && s.sealed.includes(EXTERNAL_HSM_NAME)
        sealed[n.name] = ok
        if (!ok) missing.push(`${n.name} (configured: ${s.configured.join(', ') || 'none'}; sealed: ${s.sealed.join(', ') || 'none'})`)
      } catch (err) {
        this.#checkStop()
        sealed[n.name] = false
        missing.push(`${n.name} (its cluster status cannot be read: ${errorText(err)})`)
      }
    }))
    await this.save((m) => {
      for (const node of m.nodes) {
        const a = node.phases.A
        if (a !== undefined) node.phases.A = { ...a, sealed: sealed[node.name] ?? false }
      }
    })
    // Node order, so the message reads the same however the answers arrived.
    const order = this.#nodes.map((n) => n.name)
    return missing.sort((a, b) => order.indexOf(a.split(' ')[0] ?? '') - order.indexOf(b.split(' ')[0] ?? ''))
  }

  // Phase B's check of every node's sealed copy is reads only (and a note in the view), so it is
  // asked at once, beside the revision, the lookup of a rollout already started and the plan,
  // which are reads too; nothing is started before its answer came and said every node holds
  // its copy. Only a rollout that was started before a crash is taken up again without it, as
  // before: the check ran before that rollout started.
  async #startRollout (phase: 'A' | 'B'): Promise<string | undefined> {
    const sealedCheck = phase === 'B' ? settled(this.#sealedCopies()) : undefined
    try {
      return await this.#startRolloutChecked(phase, sealedCheck)
    } finally {
      // Answered before the phase goes on, whatever happened: its note in the view is stored in order.
      await sealedCheck
    }
  }

  async #startRolloutChecked (phase: 'A' | 'B', sealedCheck: Promise<Settled<string[]>> | undefined): Promise<string | undefined> {
    const revision = await this.#revision(phase)
    const change = phase === 'A'
      ? phaseAChange(revision, { servers: this.#m.external, enclave: this.#m.enclave, key: this.#m.key, apiKey: this.#secrets.apiKey })
      : phaseBChange(revision, this.#m.replaceHsm ? this.#work.otherHsmBlocks ?? [] : [])
    // A rollout this run started before a crash, not yet noted: take it up again.
    const active = (await this.#d.rollouts.list({ cluster: this.#m.cluster, limit: 20 }))
      .find((r) => !TERMINAL_ROLLOUT.has(r.state) && r.revision === revision && r.createdAt >= this.#m.createdAt)
    let id = active?.id
    if (id === undefined) {
      const planned = settled(this.#d.rollouts.plan(this.#m.cluster, change, this.#m.createdBy))
      const missing = sealedCheck === undefined ? undefined : unwrap(await sealedCheck)
      // A refusal waits for the plan's reads to end, so the run stops with nothing in flight.
      if (missing !== undefined && missing.length > 0) await planned
      if (missing !== undefined && !await this.#phaseBAllowed(missing)) return undefined
      const plan = unwrap(await planned)
      const s = this.#work.strategy ?? {}
      const rollout = await this.#d.rollouts.start({
        cluster: this.#m.cluster,
        change,
        planHash: plan.planHash,
        strategy: { ...s, maxParallel: 1, failureBudget: 0, autoRevert: false, canary: phase === 'B' },
        ...(phase === 'A' ? { expectHsm: EXTERNAL_HSM_NAME } : {}),
        actor: this.#m.createdBy
      })
      id = rollout.id
    }
    const rolloutId = id
    await this.save((m) => { m.rollouts[phase] = rolloutId })
    await this.event('phase', `phase ${phase}: rollout ${rolloutId} (revision ${revision}${phase === 'B' ? ', the first node as a canary' : ''})`, { phase, rollout: rolloutId, revision })
    return rolloutId
  }

  /** The phase's revision: chosen once (after phase A's for B, above every node's applied one) and stored. */
  async #revision (phase: 'A' | 'B'): Promise<number> {
    const revisionKey = phase === 'A' ? 'revisionA' : 'revisionB'
    if (this.#work[revisionKey] === undefined) {
      const base = phase === 'B' && this.#work.revisionA !== undefined ? this.#work.revisionA + 1 : undefined
      const revision = Math.max(base ?? 0, await this.#nextRevision())
      await this.save((_m, w) => { w[revisionKey] = revision })
    }
    return this.#work[revisionKey] as number
  }

  async #nextRevision (): Promise<number> {
    const statuses = await Promise.all(this.#nodes.map(async (n) => await this.#d.agents.status(n, { signal: this.#stop.signal })))
    return Math.max(0, ...statuses.map((s) => s.appliedRevision)) + 1
  }

  /**
   * Follows the phase's rollout to its end: forwards its events (from where the migration's
   * events stopped), mirrors its nodes and pause state, promotes phase B's canary once it passed.
   * Undefined when the run was closed or paused between phases.
   */
  async #follow (phase: 'A' | 'B', id: string): Promise<Rollout | undefined> {
    this.rolloutId = id
    const unsubscribe = this.#d.rollouts.subscribe(id, () => { this.poke() })
    try {
      let cursor = await forwardedCount(this.#d.store, this.#m.id, id, phase)
      const runs: PhaseRuns = structuredClone(this.#work.runs?.[phase] ?? { before: {}, runs: {} })
      for (;;) {
        this.#checkStop()
        this.#stale = false
        const r = await this.#d.rollouts.get(id)
        if (r === undefined) throw new Error(`the rollout ${id} of phase ${phase} is gone from the store`)
        noteBaselines(runs, r)
        for (;;) {
          const batch = await this.#d.rollouts.events(id, { from: cursor, limit: 500 })
          for (const e of batch) {
            noteRun(runs, e)
            await this.#forward(phase, e)
            cursor = e.index + 1
          }
          if (batch.length < 500) break
        }
        await this.#mirror(phase, r, runs)
        if (TERMINAL_ROLLOUT.has(r.state)) return r
        if (r.state === 'awaiting-promotion' && phase === 'B' && this.#work.pauseRequested !== true && this.#work.abortRequested !== true) {
          await this.event('phase', `phase B: the canary ${r.nodes[0]?.node ?? ''} started on the external HSM alone; promoting`)
          await this.#d.rollouts.promote(id, this.#m.createdBy)
          continue
        }
        await this.#sleep()
      }
    } finally {
      unsubscribe()
      this.rolloutId = undefined
    }
  }

  async #forward (phase: 'A' | 'B', e: RolloutEvent): Promise<void> {
    const { index: _index, ...rest } = e
    await this.#d.events.append(this.#m.id, { ...rest, phase }, this.#secretList())
  }

  /** The rollout's nodes and pause state into the migration, stored when anything changed. */
  async #mirror (phase: 'A' | 'B', r: Rollout, runs: PhaseRuns): Promise<void> {
    const before = JSON.stringify({ n: this.#m.nodes, s: this.#m.state, r: this.#work.runs?.[phase] })
    const next = structuredClone(this.#m.nodes)
    for (const step of r.nodes) {
      const node = next.find((n) => n.name === step.node)
      if (node !== undefined) node.phases[phase] = nodePhaseOf(step, runs, node.phases[phase])
    }
    const state: HsmMigration['state'] = r.state === 'paused' || this.#work.pauseRequested === true ? 'paused' : 'running'
    if (JSON.stringify({ n: next, s: state, r: runs }) === before) return
    await this.save((m, w) => {
      m.nodes = next
      m.state = state
      w.runs = { ...w.runs, [phase]: runs }
    })
  }

  async #cleanup (): Promise<HsmMigrationPhase | undefined> {
    const holding: NodeRef[] = []
    for (const n of this.#nodes) {
      const s = await this.#d.probe.hsmStatus(n, { signal: this.#stop.signal })
      if (s.sealed.includes(LOCAL_HSM_NAME)) holding.push(n)
    }
    if (holding.length === 0) {
      await this.event('phase', `cleanup: no node holds a sealed copy for ${LOCAL_HSM_NAME}; nothing to remove`)
      return 'done'
    }
    const via = this.#nodes[0] as NodeRef
    await this.event('phase', `cleanup: CLUSTER:REMOVEHSM ${LOCAL_HSM_NAME} through ${via.name} (held by ${holding.map((n) => n.name).join(', ')}); irreversible`)
    await this.#d.probe.removeHsm(via, LOCAL_HSM_NAME, { signal: this.#stop.signal })
    await this.event('phase', `cleanup: the local HSM's sealed copy of the root key is removed; only ${EXTERNAL_HSM_NAME} can unseal now`)
    return 'done'
  }

  async #finish (): Promise<void> {
    const parts = [this.#m.keepLocalHsm ? 'phase A done; the local HSM stays (keepLocalHsm)' : 'phases A and B done', ...(this.#m.removeLocalSealedCopy ? ['the local sealed copy removed'] : [])]
    await this.#end('succeeded', `every node seals its root key with ${EXTERNAL_HSM_NAME}: ${parts.join(', ')}`)
  }

  /** The migration failed: stored with its one-sentence reason. */
  async fail (message: string): Promise<void> {
    await this.#end('failed', message)
  }

  async #end (state: 'succeeded' | 'failed' | 'aborted', message: string): Promise<void> {
    const now = this.#d.clock.now()
    const m = await this.save((m, w) => {
      m.state = state
      m.message = message
      m.finishedAt = now
      w.pauseRequested = false
    })
    await this.event('migration', `migration ${state}: ${message}`, { state })
    await this.#d.audit.appendAudit({
      at: now,
      actor: 'system',
      action: 'hsm-migration.finish',
      target: m.id,
      detail: { cluster: m.cluster, state, phase: m.phase, message, nodes: m.nodes.map((n) => ({ node: n.name, A: n.phases.A?.state, B: n.phases.B?.state, restarts: (n.phases.A?.restarts ?? 0) + (n.phases.B?.restarts ?? 0) })) }
    })
  }

  #checkStop (): void {
    if (this.#stop.signal.aborted) throw new Halt('closed')
  }

  async #sleep (): Promise<void> {
    if (this.#stale) return
    const wake = new AbortController()
    this.#wake = () => { wake.abort() }
    const both = AbortSignal.any([wake.signal, this.#stop.signal])
    try {
      await this.#d.clock.sleep(this.#d.pollMs, both)
    } catch {
      // woken early: look again
    } finally {
      this.#wake = undefined
    }
  }

  #secretList (): Secret[] {
    return [this.#secrets.apiKey, ...(this.#secrets.adminKey === undefined ? [] : [this.#secrets.adminKey])]
  }
}

/** A promise's outcome, so one started early can wait without an unhandled rejection. */
type Settled<T> = { ok: true, value: T } | { ok: false, error: unknown }

async function settled<T> (p: Promise<T>): Promise<Settled<T>> {
  return await p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))
}

function unwrap<T> (s: Settled<T>): T {
  if (s.ok) return s.value
  throw s.error
}

function phaseName (p: HsmMigrationPhase): string {
  return p === 'A' || p === 'B' ? `phase ${p}` : p
}
