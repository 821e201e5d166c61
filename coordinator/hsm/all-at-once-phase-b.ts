// The all-at-once phase B: for a cluster whose root identity changes when the local HSM goes (a
// rolling phase B cannot pass its first node there: its peers refuse it), every node takes phase
// B's change together. The agents plan and hold it first (POST /v1/stage: nothing written), then
// every node commits at once (POST /v1/stage/commit: backup, write, restart, verify from the
// journal, commit; or restore), so the nodes restart within a fraction of a second of each other.
// While they restart the cluster accepts no writes and reads fail: the write outage the operator
// accepted (allowWriteOutage), measured from the first commit sent to the moment every node
// accepts writes again.
//
// Steps, each stored before its effect (work.allAtOnce):
// 1. staging: phase B's change staged on every node at once. A refusal or an unreachable node:
//    the staged change is discarded everywhere, the migration fails naming the node; nothing was
//    written.
// 2. Right before the commits: the cluster serves (cluster-serves.ts, within 10 s) and each node's
//    journal cursor and minkms run are taken, so the coordinator reads each journal itself.
// 3. committing (stored with the first commit's time): every commit sent at once; each node's
//    verdict must be ok AND the coordinator's own reading of its journal (the new run's ready line,
//    no fatal line) AND the step gate's checks through it; then the cluster as a whole serves,
//    all by the healthy deadline counted from the first commit.
// 4. Anything else: rolling-back. Every node on phase B's revision is rolled back at once with a
//    restart (a node its agent already rolled back is not), and the cluster must serve again; the
//    migration fails in phase B (resumable) naming the node(s), the cause and that every node was
//    rolled back.
//
// A coordinator restarted in the middle resumes by this rule:
// - staging: nothing was written; staging starts over (a second stage replaces the first);
// - committing: the commits were sent and run by the agents on their own, so the coordinator
//   waits for every agent to finish its transaction, then reads every node's applied revision and
//   the cluster: every node on phase B's revision and the cluster serving → phase B is done (the
//   write outage then ends when it was seen, an upper bound); anything else → every node is rolled
//   back as in 4;
// - rolling-back: the rollback is made again; a node no longer on phase B's revision is skipped.
import type { ChangeSpec } from '../../shared/change/schema.js'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/logger.js'
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import type { ApplyResult } from '../../shared/schemas/apply.js'
import type { HsmMigration, HsmMigrationEvent, HsmNodePhase, WriteOutage } from '../../shared/schemas/hsm-migration.js'
import type { GateResult, NodeStep } from '../../shared/schemas/rollout.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import { errorText } from '../engine/error-text.js'
import { runGate } from '../engine/gate.js'
import { readJournal as defaultReadJournal, type ReadJournal } from '../gate/journal-reading.js'
import type { AgentClient, AgentStagingClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { AllAtOnceWork, HsmMigrationWork } from '../store/hsm-migration-store.js'
import { clusterServes, type ClusterServes } from './cluster-serves.js'
import { JournalFollows } from './journal-follows.js'

/** What the phase needs besides its migration. */
export interface AllAtOnceDeps {
  agents: AgentClient
  staging: AgentStagingClient
  probe: ClusterProbe
  clock: Clock
  log: Logger
  pollMs: number
  /** From the first commit (and from the rollback's start): the cluster must serve within it. */
  healthyDeadlineMs: number
  readJournal?: ReadJournal
}

/** What the migration's runner hands the phase: its view, its store and its events. */
export interface AllAtOnceHost {
  readonly migration: HsmMigration
  readonly work: HsmMigrationWork
  readonly nodes: readonly NodeRef[]
  readonly signal: AbortSignal
  save: (edit: (m: HsmMigration, w: HsmMigrationWork) => void) => Promise<HsmMigration>
  append: (e: { type: HsmMigrationEvent['type'], message: string, node?: string, data?: unknown }) => Promise<void>
  fail: (message: string) => Promise<void>
  /** Phase B's check that every node holds the external HSM's sealed copy, with its refusal (false: refused, failed). */
  sealedCopiesHeld: () => Promise<boolean>
  /** Phase B's revision, chosen once and stored. */
  revision: () => Promise<number>
  change: (revision: number) => ChangeSpec
}

/** How long the cluster may take to serve right before the commits (ms). */
const BEFORE_GRACE_MS = 10_000

/** One node's commit, as judged. */
interface Commit {
  node: NodeRef
  result?: ApplyResult
  error?: string
  gate?: GateResult
  /** Wall ms its write readiness passed. */
  writesAt?: number
}

/** Runs (or resumes) the all-at-once phase B; true when it is done, false when the migration failed in it. */
export async function runAllAtOnceB (h: AllAtOnceHost, d: AllAtOnceDeps): Promise<boolean> {
  return await new AllAtOnce(h, d).run()
}

class AllAtOnce {
  constructor (private readonly h: AllAtOnceHost, private readonly d: AllAtOnceDeps) {}

  async run (): Promise<boolean> {
    const w = this.h.work.allAtOnce
    const revision = await this.h.revision()
    if (w?.step === 'committing') return await this.#resume(w, revision)
    if (w?.step === 'rolling-back') return await this.#rollBackAll(revision, w.cause ?? 'a rollback of every node was under way when the coordinator restarted', w.firstCommitAt, new Set(), new Set())
    if (!await this.h.sealedCopiesHeld()) return false
    if (!await this.#stage(revision)) return false
    return await this.#commit(revision)
  }

  // Step 1: the change staged on every node at once; nothing written.
  async #stage (revision: number): Promise<boolean> {
    await this.h.save((m, w) => {
      w.allAtOnce = { step: 'staging' }
      m.phaseBStep = 'staging'
      for (const n of m.nodes) n.phases.B = { state: 'pending', restarts: 0 }
    })
    await this.h.append({ type: 'phase', message: `phase B all at once: staging revision ${revision} on every node (${this.#names()}); nothing is written yet`, data: { revision } })
    const change = this.h.change(revision)
    const staged = await Promise.allSettled(this.h.nodes.map(async (n) => await this.d.staging.stage(n, change, { signal: this.h.signal })))
    this.h.signal.throwIfAborted()
    const refused = this.h.nodes.flatMap((n, i) => {
      const s = staged[i]
      return s?.status === 'rejected' ? [`${n.name}: ${errorText(s.reason)}`] : []
    })
    if (refused.length > 0) {
      await this.#discardAll()
      await this.#end(`phase B failed (all at once): staging was refused on ${refused.join('; ')}; the staged change was discarded on every node, and no node was written or restarted`)
      return false
    }
    await this.h.append({ type: 'phase', message: `phase B all at once: revision ${revision} staged on every node` })
    return true
  }

  // Steps 2 and 3.
  async #commit (revision: number): Promise<boolean> {
    const { clock, agents } = this.d
    const signal = this.h.signal
    const [before, baselines] = await Promise.all([
      // A blip is waited out briefly; a cluster that does not serve is not restarted as a whole.
      this.#serves(clock.now() + Math.min(this.d.healthyDeadlineMs, BEFORE_GRACE_MS)),
      Promise.allSettled(this.h.nodes.map(async (n) => await Promise.all([agents.status(n, { signal }), agents.journalCursor(n, { signal })])))
    ])
    const unread = this.h.nodes.flatMap((n, i) => baselines[i]?.status === 'rejected' ? [`${n.name} (${errorText((baselines[i] as PromiseRejectedResult).reason)})`] : [])
    if (!before.ok || unread.length > 0) {
      await this.#discardAll()
      const why = !before.ok ? `the cluster does not serve: ${before.message}` : `the agent of ${unread.join(', ')} cannot be read`
      await this.#end(`phase B refused (all at once): right before the restart ${why}; the staged change was discarded on every node, and no node was written or restarted`)
      return false
    }
    const base: NonNullable<AllAtOnceWork['baselines']> = {}
    this.h.nodes.forEach((n, i) => {
      const [status, cursor] = (baselines[i] as PromiseFulfilledResult<[AgentStatus, string | undefined]>).value
      const inv = status.unit.status?.invocationId
      base[n.name] = { ...(cursor === undefined ? {} : { cursor }), ...(inv === undefined || inv === '' ? {} : { invocationBefore: inv }) }
    })

    const firstCommitAt = clock.now()
    await this.h.save((m, w) => {
      w.allAtOnce = { step: 'committing', baselines: base, firstCommitAt }
      m.phaseBStep = 'committing'
      for (const n of m.nodes) n.phases.B = { state: 'running', restarts: 0 }
    })
    await this.h.append({ type: 'phase', message: `phase B all at once: committing revision ${revision} on every node at once; the cluster accepts no writes until every node is back`, data: { revision, firstCommitAt } })

    const follows = new JournalFollows({ agents, clock, pollMs: this.d.pollMs, onEntry: (node, e) => { this.#journalEvent(node, e) } })
    for (const n of this.h.nodes) follows.follow(n, base[n.name]?.cursor)
    const deadline = firstCommitAt + this.d.healthyDeadlineMs
    let commits: Commit[]
    let cluster: ClusterServes | undefined
    try {
      const sent = await Promise.allSettled(this.h.nodes.map(async (n) => await this.d.staging.commitStaged(n, revision, { signal })))
      signal.throwIfAborted()
      commits = this.h.nodes.map((node, i) => {
        const s = sent[i] as PromiseSettledResult<ApplyResult>
        return s.status === 'fulfilled' ? { node, result: s.value } : { node, error: errorText(s.reason) }
      })
      for (const c of commits) await this.#verdictEvent(c)
      if (commits.every((c) => commitOk(c))) {
        await Promise.all(commits.map(async (c) => { await this.#gate(c, base[c.node.name] ?? {}, follows, deadline) }))
        if (commits.every((c) => c.gate?.ok === true)) cluster = await this.#serves(deadline)
      }
    } finally {
      await follows.stop()
    }
    const entries = (node: string): ReturnType<JournalFollows['entries']> => follows.entries(node)

    const failed = commits.filter((c) => !commitOk(c) || (c.gate !== undefined && !c.gate.ok))
    const byAgent = new Set(commits.filter((c) => c.result?.result === 'rolled-back' || c.result?.result === 'rollback-failed').map((c) => c.node.name))
    if (failed.length > 0 || cluster === undefined || !cluster.ok) {
      const cause = failed.length > 0
        ? failed.map((c) => `${c.node.name}: ${problemOf(c)}`).join('; ')
        : `every node restarted and passed its own checks, but the cluster as a whole does not serve: ${cluster?.message ?? 'not checked'}`
      return await this.#rollBackAll(revision, cause, firstCommitAt, byAgent, new Set(failed.map((c) => c.node.name)))
    }

    // Writes accepted again on every node: the last node's write readiness (the cluster check came after it).
    const to = Math.max(...commits.map((c) => c.writesAt ?? cluster.at))
    const outage: WriteOutage = { ms: Math.max(0, to - firstCommitAt), from: firstCommitAt, to, rolledBack: false }
    await this.h.save((m, w) => {
      delete w.allAtOnce
      delete m.phaseBStep
      m.writeOutage = outage
      for (const n of m.nodes) {
        const c = commits.find((x) => x.node.name === n.name)
        if (c !== undefined) n.phases.B = nodePhase(c, base[n.name]?.invocationBefore, entries(n.name))
      }
    })
    await this.h.append({ type: 'phase', message: `phase B all at once: every node restarted on revision ${revision} and the cluster serves (${cluster.message}); write outage ${outage.ms} ms`, data: { writeOutage: outage } })
    return true
  }

  // The step gate's checks through one node (journal reading, internode, client, writes), to the deadline.
  async #gate (c: Commit, base: { cursor?: string, invocationBefore?: string }, follows: JournalFollows, deadline: number): Promise<void> {
    const r = c.result as ApplyResult
    const step: NodeStep = {
      node: c.node.name,
      state: 'gating',
      ...(base.cursor === undefined ? {} : { cursor: base.cursor }),
      ...(base.invocationBefore === undefined ? {} : { invocationBefore: base.invocationBefore }),
      result: { result: r.result, restarted: r.restarted, message: r.message, ...(r.failedStep === undefined ? {} : { failedStep: r.failedStep }) },
      ...(r.verdict === undefined ? {} : { verdict: r.verdict })
    }
    c.gate = await runGate({
      node: c.node,
      cluster: this.h.nodes,
      step,
      deadline,
      entries: () => follows.entries(c.node.name),
      readJournal: this.d.readJournal ?? defaultReadJournal,
      probe: this.d.probe,
      clock: this.d.clock,
      pollMs: this.d.pollMs,
      signal: this.h.signal,
      report: async (check, part, ok, message) => {
        if (check === 'writeReady' && ok) c.writesAt = this.d.clock.now()
        await this.h.append({ type: 'gate', node: c.node.name, message: `${c.node.name}: ${message}`, data: { check, ...(part as object) } })
      }
    })
  }

  // Step 4 (and a resume that found the commits did not all pass).
  async #rollBackAll (revision: number, cause: string, firstCommitAt: number | undefined, byAgent: ReadonlySet<string>, failed: ReadonlySet<string>): Promise<boolean> {
    const { agents, clock } = this.d
    const signal = this.h.signal
    await this.h.save((m, w) => {
      w.allAtOnce = { step: 'rolling-back', cause, ...(firstCommitAt === undefined ? {} : { firstCommitAt }) }
      m.phaseBStep = 'rolling-back'
    })
    await this.h.append({ type: 'phase', message: `phase B all at once: rolling every node back together: ${cause}` })
    // A node whose commit never ran still holds the staged change: it must not run later.
    await this.#discardAll()
    // A commit whose answer was lost may still run on its node: its agent finishes (or undoes) it first.
    const statuses = await this.#settled(clock.now() + this.d.healthyDeadlineMs)
    const onB = this.h.nodes.filter((n, i) => statuses[i]?.appliedRevision === revision)
    const rolled = await Promise.allSettled(onB.map(async (n) => await agents.rollback(n, { restart: 'always', signal })))
    signal.throwIfAborted()
    const rollbackFailed = onB.flatMap((n, i) => {
      const r = rolled[i] as PromiseSettledResult<ApplyResult>
      if (r.status === 'rejected') return [`${n.name} (${errorText(r.reason)})`]
      return r.value.result === 'rolled-back' || r.value.result === 'rollback-failed' || r.value.verdict?.ok === false ? [`${n.name} (${r.value.message})`] : []
    })
    for (const [i, n] of onB.entries()) {
      const r = rolled[i] as PromiseSettledResult<ApplyResult>
      await this.h.append({ type: 'verdict', node: n.name, message: `${n.name}: rolled back: ${r.status === 'fulfilled' ? `${r.value.result}: ${r.value.message}` : errorText(r.reason)}` })
    }
    const unread = this.h.nodes.filter((_n, i) => statuses[i] === undefined).map((n) => n.name)
    const after = await this.#serves(clock.now() + this.d.healthyDeadlineMs)
    const outage: WriteOutage | undefined = firstCommitAt === undefined || !after.ok ? undefined : { ms: Math.max(0, after.at - firstCommitAt), from: firstCommitAt, to: after.at, rolledBack: true }
    await this.h.save((m, w) => {
      delete w.allAtOnce
      delete m.phaseBStep
      if (outage !== undefined) m.writeOutage = outage
      for (const n of m.nodes) {
        const back = onB.some((x) => x.name === n.name) || byAgent.has(n.name)
        const state: HsmNodePhase['state'] = failed.has(n.name) ? 'failed' : back ? 'reverted' : n.phases.B?.state === 'pending' ? 'skipped' : 'failed'
        n.phases.B = { ...(n.phases.B ?? { restarts: 0 }), state }
      }
    })
    const names = [...new Set([...onB.map((n) => n.name), ...byAgent])]
    const what = [
      names.length === 0 ? 'no node was left on phase B\'s revision' : `every node was rolled back (${names.join(', ')} restarted on the revision before phase B${byAgent.size > 0 ? `; ${[...byAgent].join(', ')} by its own agent` : ''})`,
      ...(rollbackFailed.length > 0 ? [`the rollback failed on ${rollbackFailed.join(', ')}: look at those nodes`] : []),
      ...(unread.length > 0 ? [`the agent of ${unread.join(', ')} could not be read to tell whether it is on phase B's revision`] : []),
      after.ok ? `the cluster serves again${outage === undefined ? '' : ` (write outage ${outage.ms} ms)`}` : `the cluster does NOT serve again: ${after.message}`
    ]
    await this.#end(`phase B failed (all at once): ${cause}; ${what.join('; ')}. Every node still has its local HSM; once the cause is fixed, resume runs the all-at-once phase B again`)
    return false
  }

  // The rule of the file comment for a coordinator restarted while committing.
  async #resume (w: AllAtOnceWork, revision: number): Promise<boolean> {
    const { clock } = this.d
    await this.h.append({ type: 'phase', message: 'phase B all at once: the coordinator restarted while the commits ran; reading every node\'s revision and the cluster' })
    const statuses = await this.#settled(Math.max(clock.now(), (w.firstCommitAt ?? clock.now()) + this.d.healthyDeadlineMs))
    const behind = this.h.nodes.filter((_n, i) => statuses[i]?.appliedRevision !== revision)
    const cluster = behind.length > 0 ? undefined : await this.#serves(Math.max(clock.now(), (w.firstCommitAt ?? clock.now()) + this.d.healthyDeadlineMs))
    if (cluster === undefined || !cluster.ok) {
      const cause = cluster === undefined
        ? `the coordinator restarted while committing and found ${behind.map((n) => `${n.name} ${statuses[this.h.nodes.indexOf(n)] === undefined ? 'unreadable' : `on revision ${statuses[this.h.nodes.indexOf(n)]?.appliedRevision ?? '?'}`}`).join(', ')}, not on phase B's revision ${revision}`
        : `the coordinator restarted while committing and the cluster does not serve: ${cluster.message}`
      return await this.#rollBackAll(revision, cause, w.firstCommitAt, new Set(), new Set())
    }
    const from = w.firstCommitAt ?? cluster.at
    const outage: WriteOutage = { ms: Math.max(0, cluster.at - from), from, to: cluster.at, rolledBack: false }
    await this.h.save((m, wk) => {
      delete wk.allAtOnce
      delete m.phaseBStep
      m.writeOutage = outage
      for (const n of m.nodes) {
        const s = statuses[this.h.nodes.findIndex((x) => x.name === n.name)]
        const v = s?.lastResult?.verdict
        n.phases.B = {
          state: 'done',
          restarts: 1,
          ...(v === undefined ? {} : { verdict: v, ...(v.timings === undefined ? {} : { restartToVerdictMs: Math.max(0, v.timings.verdictAt - v.timings.restartAt) }) }),
          message: 'found on phase B\'s revision after the coordinator restarted'
        }
      }
    })
    await this.h.append({ type: 'phase', message: `phase B all at once: every node is on revision ${revision} and the cluster serves (${cluster.message}); write outage at most ${outage.ms} ms (the coordinator restarted within it)`, data: { writeOutage: outage } })
    return true
  }

  /** Every node's status once no agent is in a transaction (or the deadline passed); undefined where unreadable. */
  async #settled (deadline: number): Promise<Array<AgentStatus | undefined>> {
    for (;;) {
      const statuses = await Promise.all(this.h.nodes.map(async (n) => await this.d.agents.status(n, { signal: this.h.signal }).catch(() => undefined)))
      this.h.signal.throwIfAborted()
      if (statuses.every((s) => s === undefined || !s.applying) || this.d.clock.now() + this.d.pollMs > deadline) return statuses
      await this.d.clock.sleep(this.d.pollMs, this.h.signal)
    }
  }

  async #serves (deadline: number): Promise<ClusterServes> {
    return await clusterServes({ probe: this.d.probe, nodes: this.h.nodes, clock: this.d.clock, pollMs: this.d.pollMs, deadline, signal: this.h.signal })
  }

  async #discardAll (): Promise<void> {
    await Promise.allSettled(this.h.nodes.map(async (n) => await this.d.staging.discardStaged(n, { signal: this.h.signal })))
  }

  async #end (message: string): Promise<void> {
    await this.h.save((m, w) => {
      delete w.allAtOnce
      delete m.phaseBStep
      for (const n of m.nodes) if (n.phases.B?.state === 'pending') n.phases.B = { ...n.phases.B, state: 'skipped' }
    })
    await this.h.fail(message)
  }

  async #verdictEvent (c: Commit): Promise<void> {
    const text = c.error !== undefined ? `the commit failed: ${c.error}` : `${c.result?.result ?? ''}: ${c.result?.message ?? ''}${c.result?.verdict === undefined ? '' : ` (verdict ${c.result.verdict.reason})`}`
    await this.h.append({ type: 'verdict', node: c.node.name, message: `${c.node.name}: ${text}`, ...(c.result?.verdict === undefined ? {} : { data: c.result.verdict }) })
  }

  #journalEvent (node: string, e: { cursor: string, realtimeUs: number, invocationId?: string, priority?: number, message: string }): void {
    this.h.append({ type: 'journal', node, message: `${node}: ${redactText(e.message, [])}`, data: { cursor: e.cursor, realtimeUs: e.realtimeUs, invocationId: e.invocationId, priority: e.priority } })
      .catch((err: unknown) => { this.d.log.warn({ err: errorText(err), node }, 'a journal line of the all-at-once phase B could not be stored') })
  }

  #names (): string {
    return this.h.nodes.map((n) => n.name).join(', ')
  }
}

/** The agent committed and its verdict is ok (or nothing needed a restart). */
function commitOk (c: Commit): boolean {
  const r = c.result
  return r !== undefined && (r.result === 'changed' || r.result === 'ok') && (r.verdict === undefined || r.verdict.ok)
}

function problemOf (c: Commit): string {
  if (c.error !== undefined) return `its commit failed: ${c.error}`
  const r = c.result
  if (r?.result === 'rolled-back') return `its agent rolled it back: ${r.message}`
  if (r?.result === 'rollback-failed') return `its commit failed and so did its agent's restore: ${r.message}`
  if (r !== undefined && r.verdict?.ok === false) return `its verdict is not ok: ${r.verdict.summary}`
  return c.gate?.message ?? 'not checked'
}

/** A node's phase B as the rolling mode fills it: verdict, gate, restarts seen, restart-to-verdict time. */
function nodePhase (c: Commit, before: string | undefined, entries: ReturnType<JournalFollows['entries']>): HsmNodePhase {
  const runs = new Set(entries.map((e) => e.invocationId).filter((id): id is string => id !== undefined && id !== '' && id !== before))
  const r = c.result
  const t = r?.verdict?.timings
  return {
    state: 'done',
    restarts: runs.size > 0 ? runs.size : r?.restarted === true ? 1 : 0,
    ...(r?.verdict === undefined ? {} : { verdict: r.verdict }),
    ...(c.gate === undefined ? {} : { gate: c.gate }),
    ...(t === undefined ? {} : { restartToVerdictMs: Math.max(0, t.verdictAt - t.restartAt) })
  }
}
