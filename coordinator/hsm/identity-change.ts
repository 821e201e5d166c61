// Why a phase B node that restarted cleanly is refused by its peers. If minkms derives its root
// API key from the HSM that unsealed it, taking the local HSM away gives the node another root
// identity: its peers refuse its internode calls (and it theirs) until every node restarted on the
// same HSM, so a rolling phase B cannot pass its first node. The evidence is the banner's
// `API Key` line of each minkms run, which the agent serves in its safe form (`k1:*** (h1:…)`,
// shared/minkms/journal-lines.ts): the coordinator compares identities, never sees a key.
import { rootIdentityOfLine } from '../../shared/minkms/journal-lines.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { NodeStep } from '../../shared/schemas/rollout.js'

/** Journal entries read to find the runs' banners: the step's run, the one before and the rollback's. */
export const IDENTITY_JOURNAL_TAIL = 2000

/** A node's root identity before and after a step's restart (`h1:` identities, not secret). */
export interface IdentityChange {
  before: string
  after: string
}

/** The identity each run's banner named (the last banner of a run wins), by InvocationID. */
export function identitiesByRun (entries: readonly JournalEntry[]): Map<string, string> {
  const byRun = new Map<string, string>()
  for (const e of entries) {
    const id = rootIdentityOfLine(e.message)
    if (id !== undefined && e.invocationId !== undefined) byRun.set(e.invocationId, id)
  }
  return byRun
}

/** True for a step whose node restarted cleanly (verdict ok) but whose peers did not show it up. */
export function refusedByPeers (step: NodeStep): boolean {
  return step.verdict?.ok === true && step.gate !== undefined && !step.gate.ok && step.gate.internode?.ok === false
}

/**
 * How the root identity of the run the gate judged differs from the run before the step (or, when
 * that run's banner left the tail, from the run started after it, i.e. the rollback's); undefined
 * when either banner is not found or the identity did not change.
 */
export function identityChangeOf (step: NodeStep, entries: readonly JournalEntry[]): IdentityChange | undefined {
  const judged = step.gate?.journal?.invocationId
  if (judged === undefined) return undefined
  const byRun = identitiesByRun(entries)
  const after = byRun.get(judged)
  if (after === undefined) return undefined
  let before = step.invocationBefore === undefined ? undefined : byRun.get(step.invocationBefore)
  if (before === undefined) {
    const runs = [...byRun.keys()]
    const next = runs[runs.indexOf(judged) + 1]
    before = next === undefined ? undefined : byRun.get(next)
  }
  return before === undefined || before === after ? undefined : { before, after }
}

/** `h1:` and the first 8 characters: enough to tell two identities apart in a sentence. */
export function shortIdentity (identity: string): string {
  return `${identity.slice(0, 11)}…`
}

/** The sentence a halted rolling phase B ends with when the node's identity changed: what was seen and what to do. */
export function identityChangeMessage (node: string, step: NodeStep, change: IdentityChange): string {
  const seen = step.gate?.internode?.message ?? 'its peers show it down'
  return `${node} restarted cleanly but its peers do not accept it: ${seen}; and its root API key changed ` +
    `(identity ${shortIdentity(change.before)} → ${shortIdentity(change.after)}): removing the local HSM changes this cluster's ` +
    'identity, so a rolling phase B cannot work; ' +
    `${node} was rolled back and every node still has its local HSM. Keep the local HSM (keepLocalHsm, --keep-local-hsm) ` +
    'or remove it from every node at once: an all-at-once phase B, with a write outage while every node restarts together ' +
    '(keyroll hsm migrate … --phase-b all-at-once --allow-write-outage; API phaseB: "all-at-once", allowWriteOutage: true)'
}
