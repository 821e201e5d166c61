// `keyroll rollout watch ID` (and `keyroll hsm watch ID`, hsm-watch.ts): follows the event stream
// of a rollout (or an HSM migration) from index 0 until it ends, and exits 0 when it succeeded, 1
// when it failed, was aborted or reverted.
//
// Invariants: each event is shown once and in index order (a reconnect asks `?from=` the next
// index and skips anything older); a broken stream, a stream the server ended, or a coordinator
// that restarts is followed again after a growing delay, and only after MAX_FAILURES failures in a
// row does watch give up (exit 1; the rollout goes on without it). The end is decided by the
// state GET <path> reports, after the last stored events are read (`?follow=0`), so the output
// holds every event even when the stream broke at the end.
import { TERMINAL_ROLLOUT_STATES, type Rollout, type RolloutEvent } from '../../shared/schemas/rollout.js'
import type { ErrorBody } from '../../shared/schemas/errors.js'
import { withQuery, type CoordinatorApi } from './api-client.js'
import { ApiError, CliError } from './errors.js'
import { printJson } from './output.js'
import { PlainRenderer, SilentRenderer, TtyRenderer, type Renderer } from './watch-renderers.js'
import { EXIT, type CliIo } from './types.js'
import { cliName } from './cli-name.js'

/** Failures in a row (stream or status) before watch gives up. */
export const MAX_FAILURES = 10

/** The default delay before the `attempt`-th reconnect: 200 ms doubling, at most 5 s. */
export function defaultReconnectDelayMs (attempt: number): number {
  return Math.min(200 * 2 ** (attempt - 1), 5000)
}

/** Options of {@link watchRollout}. */
export interface WatchOptions {
  json: boolean
  reconnectDelayMs: (attempt: number) => number
}

/** What watch needs of an event (RolloutEvent, HsmMigrationEvent). */
export interface WatchedEvent { index: number, at: number, type: string, message: string, node?: string, data?: unknown }

/** What is followed: a rollout, an HSM migration. */
export interface WatchTarget<T extends { state: string }, E extends WatchedEvent> {
  /** GET path of the thing; its events are at `${path}/events`. */
  path: string
  /** What it is, for messages: `rollout`, `HSM migration`. */
  what: string
  /** The command that follows it again, for the give-up message. */
  again: string
  terminal: readonly string[]
  /** An event that announces the end (the stream stops reading after it). */
  isEnd: (e: E) => boolean
  /** The renderer, once the first state is known. */
  renderer: (first: T) => Renderer<T, E>
}

function isClientError (err: unknown): boolean {
  const s = (err as { statusCode?: unknown }).statusCode
  return err instanceof ApiError && typeof s === 'number' && s < 500
}

/** One stream line as an event; undefined for a heartbeat (`{}`). Throws for an `{ error }` line. */
function asEvent<E extends WatchedEvent> (line: unknown): E | undefined {
  if (typeof line !== 'object' || line === null) throw new CliError('CRD_CLI_BAD_ANSWER', 'the event stream sent a line that is not an object')
  const o = line as Partial<E> & { error?: Partial<ErrorBody> }
  if (o.error !== undefined) {
    const e = o.error
    throw new ApiError(typeof e.code === 'string' ? e.code : 'SHR_INTERNAL', typeof e.statusCode === 'number' ? e.statusCode : 500, `the event stream ended with an error: ${String(e.message ?? '')}`)
  }
  if (Object.keys(o).length === 0) return undefined
  if (typeof o.index !== 'number' || typeof o.type !== 'string' || typeof o.message !== 'string' || typeof o.at !== 'number') {
    throw new CliError('CRD_CLI_BAD_ANSWER', 'the event stream sent a line that is not an event')
  }
  return o as E
}

async function delay (ms: number): Promise<void> {
  if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
}

/** Follows `target` to its end, showing it with its renderer; resolves with its final state. */
export async function watchToEnd<T extends { state: string }, E extends WatchedEvent> (
  api: CoordinatorApi, target: WatchTarget<T, E>, o: { reconnectDelayMs: (attempt: number) => number }
): Promise<T> {
  const eventsPath = `${target.path}/events`
  const isTerminal = (state: unknown): boolean => target.terminal.includes(state as string)
  let current = await api.get<T>(target.path)
  const view = target.renderer(current)
  let from = 0
  let failures = 0

  // Reads one stream; resolves when it ends or a terminal event came.
  const follow = async (follow: boolean): Promise<void> => {
    const path = withQuery(eventsPath, { from, ...(follow ? {} : { follow: 0 }) })
    for await (const line of api.stream(path)) {
      const e = asEvent<E>(line)
      if (e === undefined || e.index < from) continue
      from = e.index + 1
      view.event(e)
      if (follow && target.isEnd(e)) break
    }
  }

  const failed = (err: unknown): void => {
    if (isClientError(err) || failures + 1 >= MAX_FAILURES) {
      if (!isClientError(err)) view.notice(`giving up after ${MAX_FAILURES} failed attempts; the ${target.what} goes on without this watch: run ${target.again} again`)
      throw err
    }
    failures++
    view.notice(`lost the event stream (${(err as Error).message}); following again from event ${from}`)
  }

  for (;;) {
    const before = from
    try {
      await follow(true)
    } catch (err) {
      if (from > before) failures = 0
      failed(err)
    }
    try {
      current = await api.get<T>(target.path)
    } catch (err) {
      failed(err)
      await delay(o.reconnectDelayMs(failures))
      continue
    }
    if (isTerminal(current.state)) {
      // The stored events the stream did not deliver (it broke, or ended at the terminal event).
      await follow(false).catch((err: unknown) => { view.notice(`could not read the last events: ${(err as Error).message}`) })
      view.end(current)
      return current
    }
    if (from > before) failures = 0
    // A stream that ended with nothing new while it goes on is retried, but not in a tight loop.
    else if (failures === 0) failures = 1
    if (failures > 0) await delay(o.reconnectDelayMs(failures))
  }
}

/** Follows a rollout to its end; resolves with the exit code. */
export async function watchRollout (api: CoordinatorApi, id: string, io: CliIo, o: WatchOptions): Promise<number> {
  const rollout = await watchToEnd<Rollout, RolloutEvent>(api, {
    path: `/v1/rollouts/${encodeURIComponent(id)}`,
    what: 'rollout',
    again: `${cliName()} rollout watch ${id}`,
    terminal: TERMINAL_ROLLOUT_STATES,
    isEnd: e => e.type === 'rollout' && TERMINAL_ROLLOUT_STATES.includes((e.data as { state?: unknown } | undefined)?.state as Rollout['state']),
    renderer: first => o.json ? new SilentRenderer() : io.stdout.isTTY === true ? new TtyRenderer(io, first) : new PlainRenderer(io, first.id)
  }, o)
  if (o.json) printJson(io, rollout)
  return rollout.state === 'succeeded' ? EXIT.ok : EXIT.failed
}
