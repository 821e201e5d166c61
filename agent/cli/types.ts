// What the keyroll-agent command line is made of: exit codes, the core it drives, its I/O and
// the dependencies a test replaces. agent/cli.ts re-exports all of it.
import type { AgentConfig } from '../config.js'
import type { AgentCore } from '../core.js'
import type { Logger } from '../../shared/logger.js'

/** Exit codes (see agent/cli.ts). */
export const EXIT = { ok: 0, failed: 1, badInput: 2, needsAttention: 3 } as const

/** What `recover` did. */
export interface RecoverResult {
  /** none: no interrupted transaction; finished/undone: the files are now on `revision`. */
  action: 'none' | 'finished' | 'undone'
  /** The revision the files are on now. */
  revision: number
  message: string
}

/** A core the CLI can shut down. */
export interface RunningCore extends AgentCore {
  /** Stops watchers, followers and timers; resolves when nothing is left running. */
  close: () => Promise<void>
  /**
   * Finishes or undoes a transaction that was interrupted (agent killed mid-apply) from local
   * state only: no network, no coordinator, no restart, bounded in time. Run by the unit's
   * ExecStartPre before minkms starts at boot (systemd/README.md "Boot order"). Rejects when the
   * files cannot be brought to a consistent revision.
   */
  recover?: () => Promise<RecoverResult>
}

/**
 * How a core is built. `daemon`: the long-running agent (recovery with restart, boot convergence,
 * drift watching); `command`: one CLI command that changes files (apply), recovery first, nothing
 * in the background; `read`: plan and status, which change nothing (an interrupted apply is
 * reported, not undone, and a running one does not make them fail); `recover`: the unit's
 * ExecStartPre, nothing but `core.recover()` (files only, never a restart).
 */
export type CoreMode = 'daemon' | 'command' | 'read' | 'recover'

/** Builds the real core (agent/deps.ts exports it under this name). */
export type CreateCore = (config: AgentConfig, logger: Logger, opts: { mode: CoreMode }) => Promise<RunningCore>

/** Where the CLI writes. */
export interface CliIo {
  stdout: { write: (s: string) => unknown }
  stderr: { write: (s: string) => unknown }
}

/** Dependencies a test replaces. */
export interface CliDeps {
  /** Default: `createCore` from agent/deps.ts, imported when first needed. */
  createCore?: CreateCore
  /** Default: process.env (read in shared/config-loader.ts). */
  env?: Readonly<Record<string, string | undefined>>
  /** Log lines; default stdout for serve, stderr for the other commands. */
  logDestination?: { write: (line: string) => unknown }
  /** serve: stop when this aborts instead of on SIGTERM/SIGINT (close-with-grace). */
  stopSignal?: AbortSignal
  /** serve: called with the bound address once listening. */
  onListening?: (address: string) => void
}
