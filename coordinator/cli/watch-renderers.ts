// How `keyroll rollout watch` shows a rollout's events. On a terminal: the events as lines, and
// under them one line per node with its current step, redrawn in place. Otherwise (a pipe, a
// file, CI logs): one plain line per event, nothing redrawn. Both end with the rollout's status.
import { maskSecrets } from '../../shared/logger.js'
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import { oneLine, printRollout } from './output.js'
import type { CliIo } from './types.js'
import { cliName } from './cli-name.js'

/** Shows something followed (a rollout, an HSM migration) as its events arrive. */
export interface Renderer<T, E> {
  /** An event, in index order, each once. */
  event (e: E): void
  /** Something about the watch itself (a lost stream, a reconnect). */
  notice (text: string): void
  /** It reached a terminal state. */
  end (final: T): void
}

/** Shows a rollout as its events arrive. */
export type WatchRenderer = Renderer<Rollout, RolloutEvent>

/** Wall-clock time of day of an event, UTC, to the millisecond. */
export function clock (ms: number): string {
  return new Date(ms).toISOString().slice(11, 23)
}

/** An event as one line. */
export function eventLine (e: RolloutEvent, rolloutId: string): string {
  const who = e.node ?? '-'
  if (e.type === 'journal') return `${clock(e.at)} ${who} | ${oneLine(e.message)}`
  const line = `${clock(e.at)} ${who} ${e.type}: ${oneLine(e.message)}`
  return stateOf(e) === 'awaiting-promotion' ? `${line}\n  the canary passed; to go on run: ${cliName()} rollout promote ${rolloutId}` : line
}

function stateOf (e: RolloutEvent): string | undefined {
  const d = e.data as { state?: unknown } | undefined
  return e.type === 'rollout' || e.type === 'step' ? (typeof d?.state === 'string' ? d.state : undefined) : undefined
}

/** One line per event, for anything that is not a terminal. */
export class PlainRenderer implements WatchRenderer {
  constructor (private readonly io: CliIo, private readonly rolloutId: string) {}

  event (e: RolloutEvent): void {
    this.io.stdout.write(maskSecrets(eventLine(e, this.rolloutId)) + '\n')
  }

  notice (text: string): void {
    this.io.stderr.write(maskSecrets(text) + '\n')
  }

  end (r: Rollout): void {
    printRollout(this.io, r)
  }
}

interface NodeLine { state: string, activity: string }

/**
 * A block of lines at the bottom of a terminal, redrawn in place, with lines scrolling above it.
 * Each line is cut to the terminal's width: a wrapped line would make the block taller than
 * counted and the redraw would climb too little.
 */
export class InPlaceBlock {
  #drawn = 0

  constructor (private readonly io: CliIo) {}

  /** Writes `above` (kept on screen), then the block anew. */
  draw (above: readonly string[], block: readonly string[]): void {
    const cols = Math.max(20, (this.io.stdout.columns ?? 80) - 1)
    const lines = block.map(l => l.length > cols ? `${l.slice(0, cols - 1)}…` : l)
    const back = this.#back()
    this.#drawn = lines.length
    this.io.stdout.write(back + maskSecrets([...above, ...lines].join('\n')) + '\n')
  }

  /** Removes the block (before the final report replaces it). */
  erase (): void {
    this.io.stdout.write(this.#back())
    this.#drawn = 0
  }

  // Back to the first line of the block, then clear to the end of the screen.
  #back (): string {
    return this.#drawn > 0 ? `\x1b[${this.#drawn}F\x1b[0J` : ''
  }
}

/** Event lines scrolling above a block of per-node lines redrawn in place. */
export class TtyRenderer implements WatchRenderer {
  #state: string
  readonly #nodes = new Map<string, NodeLine>()
  readonly #screen: InPlaceBlock

  constructor (private readonly io: CliIo, private readonly rollout: Rollout) {
    this.#screen = new InPlaceBlock(io)
    this.#state = rollout.state
    for (const n of rollout.nodes) this.#nodes.set(n.node, { state: 'pending', activity: '' })
    this.#draw([])
  }

  event (e: RolloutEvent): void {
    const state = stateOf(e)
    if (e.type === 'rollout' && state !== undefined) this.#state = state
    if (e.node !== undefined) {
      const n = this.#nodes.get(e.node) ?? { state: 'pending', activity: '' }
      if (e.type === 'step' && state !== undefined) n.state = state
      n.activity = e.type === 'journal' ? `| ${e.message}` : e.message
      this.#nodes.set(e.node, n)
    }
    // Apply progress only moves the node's line; everything else is worth keeping on screen.
    this.#draw(e.type === 'apply' ? [] : [eventLine(e, this.rollout.id)])
  }

  notice (text: string): void {
    this.#draw([text])
  }

  end (r: Rollout): void {
    this.#screen.erase()
    printRollout(this.io, r)
  }

  #draw (above: readonly string[]): void {
    const width = Math.max(4, ...[...this.#nodes.keys()].map(n => n.length))
    const lines = [`rollout ${this.rollout.id} on ${this.rollout.cluster}: ${this.#state}`]
    for (const [node, n] of this.#nodes) lines.push(`  ${node.padEnd(width)}  ${n.state.padEnd(9)} ${oneLine(n.activity)}`)
    this.#screen.draw(above, lines)
  }
}

/** Shows nothing (`--json` prints the final view only). */
export class SilentRenderer implements Renderer<unknown, unknown> {
  event (): void {}
  notice (): void {}
  end (): void {}
}
