// The coordinator's own reading of several nodes' journals at once, as the engine follows one
// step's node: from the cursor taken before the commit, every entry kept (the journal reading
// judges them) and handed on (a `journal` event), reconnecting after a break from the last entry
// seen, until stopped.
import type { Clock } from '../../shared/clock.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { AgentClient } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'

interface Follow { entries: JournalEntry[], cursor: string | undefined, task: Promise<void> }

/** One follow per node; `stop()` ends them all. */
export class JournalFollows {
  readonly #follows = new Map<string, Follow>()
  readonly #ac = new AbortController()

  constructor (private readonly o: { agents: AgentClient, clock: Clock, pollMs: number, onEntry: (node: string, e: JournalEntry) => void }) {}

  /** Starts following `node` after `cursor` (from the start of its journal when undefined). */
  follow (node: NodeRef, cursor: string | undefined): void {
    const f: Follow = { entries: [], cursor, task: Promise.resolve() }
    const signal = this.#ac.signal
    f.task = (async () => {
      while (!signal.aborted) {
        try {
          await this.o.agents.followJournal(node, {
            ...(f.cursor === undefined ? {} : { after: f.cursor }),
            signal,
            onEntry: (e) => {
              f.entries.push(e)
              f.cursor = e.cursor
              this.o.onEntry(node.name, e)
            }
          })
        } catch {
          // The stream broke (the agent restarted, the network): follow again from the last entry.
        }
        if (signal.aborted) break
        await this.o.clock.sleep(this.o.pollMs, signal).catch(() => undefined)
      }
    })()
    this.#follows.set(node.name, f)
  }

  /** The entries of `node` received so far. */
  entries (node: string): readonly JournalEntry[] {
    return this.#follows.get(node)?.entries ?? []
  }

  /** Ends every follow and waits for them. */
  async stop (): Promise<void> {
    this.#ac.abort()
    await Promise.all([...this.#follows.values()].map(async (f) => { await f.task }))
  }
}
