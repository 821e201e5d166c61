// Turning what the verifier saw into a Verdict: the reason, one human sentence, and the
// evidence (quoted lines, timings, the unit's state, the last health answer).
import type { UnitStatus } from '../os/service-manager.js'
import type { RunTracker } from './run-tracker.js'
import type { EvidenceLine, RestartBaseline, Verdict, VerdictReason } from './verdict.js'

/** What decided the verification. */
export type Outcome = 'ready' | 'failed' | 'deadline' | 'aborted'

/** Inputs of {@link buildVerdict}. */
export interface VerdictInputs {
  unit: string
  baseline: RestartBaseline
  tracker: RunTracker
  outcome: Outcome
  stableForMs: number
  deadlineMs: number
  verdictAt: number
  /** Why the journal could not be followed, if it could not. */
  journalError?: string | undefined
}

const short = (id: string): string => id === '' ? 'none' : `${id.slice(0, 8)}…`
const state = (s: UnitStatus | undefined): string => s === undefined ? 'unknown' : `${s.activeState}/${s.subState}`

/** The reason for an outcome. A fatal line explains a failure best, so it wins when there is one. */
export function reasonOf (outcome: Outcome, t: RunTracker): VerdictReason {
  if (outcome === 'aborted') return 'aborted'
  if (outcome === 'ready') return 'ready'
  if (t.fatalLine !== undefined) return 'fatal-line'
  if (outcome === 'failed' && t.failure !== undefined) return t.failure.reason
  if (t.invocationId === '') return 'not-started'
  return t.everReady ? 'unstable' : 'not-ready'
}

function summary (reason: VerdictReason, i: VerdictInputs): string {
  const { unit, tracker: t, baseline: b } = i
  const after = (at: number | undefined): string => at === undefined ? '' : ` ${Math.max(0, Math.round(at - b.takenAt))} ms after the restart`
  const run = `(invocation ${short(t.invocationId)})`
  switch (reason) {
    case 'ready':
      return `${unit} restarted ${run}, logged its ready line${after(t.readyLine?.at)}, answered health 200 and stayed ready for ${i.stableForMs} ms.`
    case 'fatal-line':
      return `${unit}'s new run ${run} logged a fatal line${after(t.fatalLine?.at)}: ${t.fatalLine?.message ?? ''}`
    case 'unit-failed':
      return `${unit} failed${after(t.failedAt)} ${run}: ${t.failure?.detail ?? state(t.status)}.`
    case 'process-exited':
      return `${unit}'s new run ${run} did not stay up: ${t.failure?.detail ?? 'its process exited'}${after(t.failedAt)}.`
    case 'not-started': {
      const why = [
        ...(t.autoRuns > 0 ? [`only runs systemd restarted by itself were seen (${t.autoRuns})`] : []),
        ...(t.statusError !== undefined ? [t.statusError] : []),
        ...(i.journalError !== undefined ? [`journal: ${i.journalError}`] : [])
      ]
      return `${unit} did not start a new run within ${i.deadlineMs} ms (last seen: invocation ${short(t.status?.invocationId ?? b.invocationId)}, ${state(t.status)})${why.length > 0 ? `; ${why.join('; ')}` : ''}.`
    }
    case 'not-ready':
      return `${unit} started ${run} but was not ready within ${i.deadlineMs} ms: ${[...t.missing(), ...(i.journalError !== undefined ? [`journal: ${i.journalError}`] : [])].join(', ')}.`
    case 'unstable':
      return `${unit} became ready ${run} but did not stay ready for ${i.stableForMs} ms before the ${i.deadlineMs} ms deadline: ${t.missing().join(', ') || 'the window was cut by the deadline'}.`
    case 'aborted':
      return `Verification of ${unit} was aborted${after(i.verdictAt)} (${state(t.status)}).`
  }
}

/** Ready/fatal lines, plus the run's last lines when it did not end ok; oldest first, no repeats. */
function evidenceLines (ok: boolean, t: RunTracker): EvidenceLine[] {
  // Tail first: it is in journal order, which the stable sort keeps for equal timestamps.
  const picked = new Set<EvidenceLine>(ok ? [] : t.tail)
  if (t.readyLine !== undefined) picked.add(t.readyLine)
  if (t.fatalLine !== undefined) picked.add(t.fatalLine)
  return [...picked].sort((a, b) => a.at - b.at)
}

/** The verdict. */
export function buildVerdict (i: VerdictInputs): Verdict {
  const t = i.tracker
  const reason = reasonOf(i.outcome, t)
  const ok = reason === 'ready'
  const timings: Verdict['timings'] = { restartAt: i.baseline.takenAt, verdictAt: i.verdictAt }
  if (t.invocationAt !== undefined) timings.invocationAt = t.invocationAt
  if (t.readyLine !== undefined) timings.readyLineAt = t.readyLine.at
  if (t.healthyAt !== undefined) timings.healthyAt = t.healthyAt
  if (t.fatalLine !== undefined) timings.fatalLineAt = t.fatalLine.at
  if (t.failedAt !== undefined) timings.failedAt = t.failedAt
  const verdict: Verdict = {
    ok,
    reason,
    summary: summary(reason, i),
    baseline: i.baseline,
    invocationId: t.invocationId,
    ...(t.status === undefined ? {} : { unit: { ...t.status } }),
    lines: evidenceLines(ok, t),
    timings
  }
  if (t.health !== undefined) verdict.health = { ...t.health }
  return verdict
}
