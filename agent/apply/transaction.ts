// The apply transaction, so a node is never left half-changed: backup → write-ahead record → atomic writes → restart →
// verdict → commit, or restore → restart → verify the restore. Used for applying a change, for
// rolling back to the previous revision, and (restoreFromPending) for finishing what a killed
// agent left: the pending record says which files may hold new content and whether the unit may
// already run it.
import { randomUUID } from 'node:crypto'
import type { Clock } from '../../shared/clock.js'
import type { ApplyEvent, ApplyOutcome, ApplyStep } from '../core.js'
import type { FileMeta, FileSnapshot, FileStore } from '../os/file-store.js'
import type { ServiceManager } from '../os/service-manager.js'
import type { AgentStateStore, PendingRecord } from '../state/agent-state.js'
import { contentSha } from '../state/agent-state.js'
import type { RestartOptions } from '../verify/restart-verifier.js'
import type { Verdict } from '../verify/verdict.js'
import { errText } from '../../shared/error-text.js'

/** The verifier as the transaction uses it (agent/verify/restart-verifier.ts RestartVerifier). */
export interface Verifier {
  restartAndVerify (opts: RestartOptions, beforeRestart?: () => Promise<void>): Promise<Verdict>
}

/** Minimal structured logger (pino's Logger satisfies it). */
export interface Log {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

/** Told which content the agent is about to write, so its own writes are not reported as drift. */
export interface WriteObserver { expect (name: string, sha: string): void }

export interface TxDeps {
  store: FileStore
  state: AgentStateStore
  service: ServiceManager
  verifier: Verifier
  clock: Clock
  log: Log
  writes?: WriteObserver
}

/** A file the transaction changes. */
export interface TxFile {
  name: string
  path: string
  old: FileSnapshot
  /** New content; undefined removes the file (restoring a file that did not exist). */
  next: { content: string | undefined, meta?: FileMeta }
}

export interface TxSpec {
  kind: PendingRecord['kind']
  /** Revision the node is on after the commit. */
  revision: number
  changeHash: string
  /** Revision the node is on before. */
  fromRevision: number
  /** Where the old contents are kept (backups/<key>/). */
  backupKey: string
  files: TxFile[]
  restart: boolean
  verify: { deadlineMs: number, stableForMs: number }
  signal?: AbortSignal
}

export interface TxOutcome {
  result: Exclude<ApplyOutcome, 'ok'>
  restarted: boolean
  failedStep?: ApplyStep
  message: string
  verdict?: Verdict
  rollbackVerdict?: Verdict
}

type Emit = (step: ApplyStep, status: ApplyEvent['status'], message?: string) => void

/**
 * How a failed rollback reads: the rollback step that failed, what it said, and what the operator
 * runs once the cause is fixed (the write-ahead record stays, so `recover` can finish the job).
 */
function rollbackFailure (step: ApplyStep | undefined, message: string | undefined): string {
  return `rollback failed at step ${step ?? 'restore'}: ${message ?? 'unknown error'}; ` +
    'fix the cause, then run `keyroll-agent recover` (or restart keyroll-agent) to bring the files back to the last good revision'
}

/** Puts each file's content in place (a write or a removal), telling the drift watcher first. */
async function putFiles (deps: TxDeps, files: ReadonlyArray<{ name: string, path: string, content: string | undefined, meta?: FileMeta | undefined }>): Promise<void> {
  for (const f of files) {
    deps.writes?.expect(f.name, contentSha(f.content))
    if (f.content === undefined) await deps.store.remove(f.path)
    else await deps.store.write(f.path, f.content, f.meta)
  }
}

/**
 * Restores the old contents of `files` from the backup, then (when the unit may have run the new
 * contents) restarts it and verifies the restore.
 */
async function restore (deps: TxDeps, spec: Pick<TxSpec, 'backupKey' | 'verify' | 'signal'>, files: ReadonlyArray<{ name: string, path: string }>,
  restart: boolean, emit: Emit): Promise<{ ok: boolean, verdict?: Verdict, message?: string, step?: ApplyStep }> {
  emit('restore', 'started')
  try {
    const backups = await Promise.all(files.map(async (f) => ({ ...f, ...(await deps.state.readBackup(spec.backupKey, f.name)) })))
    await putFiles(deps, backups)
  } catch (err) {
    emit('restore', 'failed', errText(err))
    return { ok: false, step: 'restore', message: `restoring the backup failed: ${errText(err)}` }
  }
  emit('restore', 'done')
  if (!restart) return { ok: true }
  emit('restart-restore', 'started')
  let verdict: Verdict
  try {
    verdict = await deps.verifier.restartAndVerify(spec.verify)
  } catch (err) {
    emit('restart-restore', 'failed', errText(err))
    return { ok: false, step: 'restart-restore', message: `the files are restored, but restarting on them failed: ${errText(err)}` }
  }
  emit('restart-restore', 'done')
  emit('verify-restore', verdict.ok ? 'done' : 'failed', verdict.summary)
  return { ok: verdict.ok, verdict, ...(verdict.ok ? {} : { step: 'verify-restore', message: `the restored files did not start cleanly either: ${verdict.summary}` }) }
}

/**
 * Runs the transaction. `commit` records the new revision; it runs after a good verdict and
 * before the write-ahead record is cleared, so a crash in between is resolved by recovery.
 */
export async function runTransaction (deps: TxDeps, spec: TxSpec, emit: Emit, commit: (txId: string) => Promise<void>): Promise<TxOutcome> {
  const { files } = spec
  emit('backup', 'started')
  for (const f of files) await deps.state.writeBackup(spec.backupKey, f.name, f.old.content, f.old.meta)
  const pending: PendingRecord = {
    txId: randomUUID(),
    kind: spec.kind,
    revision: spec.revision,
    changeHash: spec.changeHash,
    fromRevision: spec.fromRevision,
    backupKey: spec.backupKey,
    phase: 'writing',
    files: files.map((f) => ({ name: f.name, path: f.path, oldSha: contentSha(f.old.content), newSha: contentSha(f.next.content) })),
    startedAt: deps.clock.now()
  }
  await deps.state.writePending(pending)
  emit('backup', 'done')

  const undo = async (failedStep: ApplyStep, why: string, restart: boolean, verdict?: Verdict): Promise<TxOutcome> => {
    await deps.state.writePending({ ...pending, phase: restart ? 'restoring' : pending.phase })
    const r = await restore(deps, spec, files, restart, emit)
    if (r.ok) await deps.state.clearPending()
    // On a failed restore the pending record stays: the next start of the agent retries it.
    return {
      result: r.ok ? 'rolled-back' : 'rollback-failed',
      restarted: restart,
      failedStep,
      message: r.ok ? `${why}; restored revision ${spec.fromRevision}` : `${why}; ${rollbackFailure(r.step, r.message)}`,
      ...(verdict === undefined ? {} : { verdict }),
      ...(r.verdict === undefined ? {} : { rollbackVerdict: r.verdict })
    }
  }

  emit('write', 'started')
  try {
    await putFiles(deps, files.map((f) => ({ name: f.name, path: f.path, content: f.next.content, meta: f.next.meta })))
  } catch (err) {
    emit('write', 'failed', errText(err))
    return await undo('write', `writing the files failed: ${errText(err)}`, false)
  }
  emit('write', 'done', files.map((f) => f.path).join(', '))

  let verdict: Verdict | undefined
  if (spec.restart) {
    emit('restart', 'started')
    try {
      verdict = await deps.verifier.restartAndVerify({ ...spec.verify, ...(spec.signal === undefined ? {} : { signal: spec.signal }) }, async () => {
        await deps.state.writePending({ ...pending, phase: 'restarting' })
      })
    } catch (err) {
      emit('restart', 'failed', errText(err))
      return await undo('restart', `restarting ${deps.service.unit} failed: ${errText(err)}`, true)
    }
    emit('restart', 'done')
    emit('verify', verdict.ok ? 'done' : 'failed', verdict.summary)
    if (!verdict.ok) return await undo('verify', `${deps.service.unit} did not come back: ${verdict.summary}`, true, verdict)
  } else {
    emit('restart', 'skipped', 'restart policy')
  }

  emit('commit', 'started')
  await commit(pending.txId)
  await deps.state.clearPending()
  emit('commit', 'done')
  return {
    result: 'changed',
    restarted: spec.restart,
    message: verdict === undefined ? `revision ${spec.revision} written` : `revision ${spec.revision} applied; ${verdict.summary}`,
    ...(verdict === undefined ? {} : { verdict })
  }
}

/**
 * Finishes an apply that a killed agent left behind by undoing it: files that hold the new content
 * get their backup back; when the unit may have run the new content it is restarted and verified.
 * Atomic writes mean each file holds its old or its new content, never a mix.
 *
 * `deferRestart` (the unit's ExecStartPre, `keyroll-agent recover`): put the files back but never
 * restart. A restart from ExecStartPre cannot work: minkms is ordered after the agent, so its
 * restart job waits for the agent's start job, which waits for ExecStartPre (a deadlock until
 * TimeoutStartSec). When the unit is inactive (boot) it will start on the restored files, and
 * nothing is left to do; otherwise the record stays, in phase `restored`, and the daemon restarts
 * and verifies once it runs.
 */
export async function restoreFromPending (deps: TxDeps, pending: PendingRecord, verify: TxSpec['verify'], emit: Emit,
  opts: { deferRestart?: boolean } = {}): Promise<TxOutcome> {
  // Killed after the commit record was written: the transaction is done, only its pending record
  // was left. Finish it (the files hold the new contents the commit vouched for).
  if ((await deps.state.readApplied())?.txId === pending.txId) {
    await deps.state.clearPending()
    emit('commit', 'done', 'finished an apply that was committed when the agent stopped')
    return { result: 'changed', restarted: false, message: `${pending.kind} of revision ${pending.revision} was committed when the agent stopped; finished it` }
  }
  const touched: PendingRecord['files'] = []
  for (const f of pending.files) {
    const cur = contentSha((await deps.store.read(f.path)).content)
    if (cur === f.oldSha) continue
    if (cur !== f.newSha) deps.log.warn({ file: f.name, path: f.path }, 'file changed outside the interrupted apply; restoring its backup')
    touched.push(f)
  }
  // The unit may run content that is not on disk: it ran (or was restarting on) the new files.
  const needsRestart = pending.phase === 'restored' || (pending.phase !== 'writing' && touched.length > 0)
  const what = `${pending.kind} of revision ${pending.revision} was interrupted`
  const putBack = `${touched.length} file${touched.length === 1 ? '' : 's'} put back`
  const failedStep = pending.phase === 'writing' ? 'write' : 'verify'
  if (opts.deferRestart === true && needsRestart) {
    const r = await restore(deps, { backupKey: pending.backupKey, verify }, touched, false, emit)
    if (!r.ok) return { result: 'rollback-failed', restarted: false, failedStep, message: `${what}; ${r.message ?? 'restore failed'}` }
    const unit = await deps.service.status().catch(() => undefined)
    if (unit?.activeState === 'inactive') {
      await deps.state.clearPending()
      emit('restart-restore', 'skipped', `${deps.service.unit} is not running; it starts on the restored files`)
      return { result: 'rolled-back', restarted: false, failedStep, message: `${what}; restored revision ${pending.fromRevision} (${putBack}); ${deps.service.unit} is not running and starts on them` }
    }
    await deps.state.writePending({ ...pending, phase: 'restored' })
    emit('restart-restore', 'skipped', 'deferred to the agent daemon')
    return {
      result: 'rolled-back',
      restarted: false,
      failedStep,
      message: `${what}; restored revision ${pending.fromRevision} (${putBack}); ${deps.service.unit} is ${unit?.activeState ?? 'in an unknown state'} and may still run the interrupted content: the agent daemon restarts and verifies it`
    }
  }
  const r = await restore(deps, { backupKey: pending.backupKey, verify }, touched, needsRestart, emit)
  if (r.ok) await deps.state.clearPending()
  return {
    result: r.ok ? 'rolled-back' : 'rollback-failed',
    restarted: needsRestart,
    failedStep,
    message: r.ok
      ? `${what}; restored revision ${pending.fromRevision} (${pending.phase === 'restored' ? `files put back at start, ${deps.service.unit} restarted on them` : putBack})`
      : `${what}; ${r.message ?? 'restore failed'}`,
    ...(r.verdict === undefined ? {} : { rollbackVerdict: r.verdict })
  }
}
