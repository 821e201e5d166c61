// What the keyroll-agent command line is made of: exit codes, its I/O and the dependencies a test
// replaces (the core's own types are in agent/core.ts). agent/cli.ts re-exports all of it.
import type { CreateCore } from '../core.js'

/** Exit codes (see agent/cli.ts). */
export const EXIT = { ok: 0, failed: 1, badInput: 2, needsAttention: 3 } as const

/** Where the CLI writes. */
export interface CliIo {
  stdout: { write: (s: string) => unknown }
  stderr: { write: (s: string) => unknown }
}

/** Dependencies a test replaces. */
export interface CliDeps {
  /** Default: `createCore` from agent/deps.ts. */
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
