// How `keyroll hsm migrate` and `keyroll hsm watch` show a migration's events: its own
// (provision, preflight, phase, migration) and those of the rollouts its phases run, each tagged
// with its phase. On a terminal: the events as lines, and under them the migration's state and one
// line per node with its state in each phase and what it does now, redrawn in place. Otherwise
// one plain line per event, journal lines as `keyroll rollout watch` shows them. Both end with
// the report per node (hsm-output.ts).
import { maskSecrets } from '../../shared/logger.js'
import type { HsmMigration, HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import { printMigration } from './hsm-output.js'
import { oneLine } from './output.js'
import { clock, InPlaceBlock, type Renderer } from './watch-renderers.js'
import type { CliIo } from './types.js'
import { cliName } from './cli-name.js'

/** Shows a migration as its events arrive. */
export type MigrationRenderer = Renderer<HsmMigration, HsmMigrationEvent>

function stateOf (e: HsmMigrationEvent): string | undefined {
  const s = (e.data as { state?: unknown } | undefined)?.state
  return typeof s === 'string' ? s : undefined
}

/** An event as one line: time, phase, node, then the journal line or `type: message`. */
export function migrationEventLine (e: HsmMigrationEvent, id: string): string {
  const where = `${e.phase === undefined ? '' : `[${e.phase}] `}${e.node ?? '-'}`
  const line = e.type === 'journal' ? `${clock(e.at)} ${where} | ${oneLine(e.message)}` : `${clock(e.at)} ${where} ${e.type}: ${oneLine(e.message)}`
  if (e.type !== 'migration') return line
  const state = stateOf(e)
  if (state === 'paused') return `${line}\n  paused; to go on run: ${cliName()} hsm resume ${id}`
  return line
}

/** One line per event, for anything that is not a terminal. */
export class PlainMigrationRenderer implements MigrationRenderer {
  constructor (private readonly io: CliIo, private readonly id: string) {}

  event (e: HsmMigrationEvent): void {
    this.io.stdout.write(maskSecrets(migrationEventLine(e, this.id)) + '\n')
  }

  notice (text: string): void {
    this.io.stderr.write(maskSecrets(text) + '\n')
  }

  end (m: HsmMigration): void {
    printMigration(this.io, m)
  }
}

interface NodeLine { A: string, B: string | undefined, activity: string }

/** Event lines scrolling above the migration's state and its per-node lines, redrawn in place. */
export class TtyMigrationRenderer implements MigrationRenderer {
  #state: string
  #phase: string
  readonly #nodes = new Map<string, NodeLine>()
  readonly #screen: InPlaceBlock

  constructor (private readonly io: CliIo, private readonly migration: HsmMigration) {
    this.#screen = new InPlaceBlock(io)
    this.#state = migration.state
    this.#phase = migration.phase
    for (const n of migration.nodes) this.#nodes.set(n.name, { A: n.phases.A?.state ?? 'pending', B: n.phases.B?.state, activity: '' })
    this.#draw([])
  }

  event (e: HsmMigrationEvent): void {
    const state = stateOf(e)
    if (e.type === 'migration' && state !== undefined) this.#state = state
    if (e.phase !== undefined) this.#phase = e.phase
    if (e.node !== undefined) {
      const n = this.#nodes.get(e.node) ?? { A: 'pending', B: undefined, activity: '' }
      if (e.type === 'step' && state !== undefined && (e.phase === 'A' || e.phase === 'B')) n[e.phase] = state
      n.activity = e.type === 'journal' ? `| ${e.message}` : e.message
      this.#nodes.set(e.node, n)
    }
    // Apply progress only moves the node's line; everything else is worth keeping on screen.
    this.#draw(e.type === 'apply' ? [] : [migrationEventLine(e, this.migration.id)])
  }

  notice (text: string): void {
    this.#draw([text])
  }

  end (m: HsmMigration): void {
    this.#screen.erase()
    printMigration(this.io, m)
  }

  #draw (above: readonly string[]): void {
    const width = Math.max(4, ...[...this.#nodes.keys()].map(n => n.length))
    const lines = [`HSM migration ${this.migration.id} on ${this.migration.cluster}: ${this.#state}, phase ${this.#phase}`]
    for (const [node, n] of this.#nodes) {
      lines.push(`  ${node.padEnd(width)}  A ${n.A.padEnd(9)}${n.B === undefined ? '' : ` B ${n.B.padEnd(9)}`} ${oneLine(n.activity)}`)
    }
    this.#screen.draw(above, lines)
  }
}
