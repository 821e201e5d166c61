// The NDJSON stream of a transaction (POST /v1/apply, /v1/rollback, /v1/stage/commit): ApplyEvent
// lines, `{}` heartbeats, then one `{ "result": ApplyResult }` line (shared/schemas/apply.ts).
//
// Committing to 200 is deferred: events are held back until the core shows it got past the steps
// that may still refuse the change (`lock`, `plan`, `validate`: a conflict, a stale revision, an
// invalid result, a commit of a change not staged or staged on other files), so those are proper
// 4xx responses, not a line inside a 200 stream. The first event of any later step (backup,
// write, restart, …, or a skipped write) commits to 200; a failure after that arrives as a final
// `{ "error": ErrorBody }` line.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApplyResult } from '../core.js'
import { renderError } from '../../shared/errors.js'
import { ApplyEventSchema, ApplyResultLineSchema, ApplyStreamLineSchema, StreamErrorLineSchema, type ApplyEvent } from '../../shared/schemas/apply.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { NDJSON, lineSerializer, startNdjson, type NdjsonWriter } from './ndjson-stream.js'

/** The responses of a transaction route. */
export const streamResponses = {
  200: { description: 'NDJSON stream', content: { [NDJSON]: { schema: ApplyStreamLineSchema } } },
  400: ErrorBodySchema,
  409: ErrorBodySchema,
  '4xx': ErrorBodySchema,
  '5xx': ErrorBodySchema
}

/** Runs the transaction, reporting its events. */
export type Run = (onEvent: (e: ApplyEvent) => void) => Promise<ApplyResult>

const REFUSING_STEPS: ReadonlySet<ApplyEvent['step']> = new Set(['lock', 'plan', 'validate'])

/** True once an event shows the transaction is past every step that may refuse the change. */
function accepted (e: ApplyEvent): boolean {
  return !REFUSING_STEPS.has(e.step)
}

/** Answers `run` as a plain error while it may still refuse, then as an NDJSON stream. */
export async function streamTransaction (req: FastifyRequest, reply: FastifyReply, heartbeatMs: number, run: Run): Promise<FastifyReply> {
  const eventLine = lineSerializer(reply, ApplyEventSchema)
  const resultLine = lineSerializer(reply, ApplyResultLineSchema)
  const errorLine = lineSerializer(reply, StreamErrorLineSchema)

  const held: ApplyEvent[] = []
  const stream: { writer?: NdjsonWriter } = {}
  let onAccepted: () => void = () => {}
  const acceptedSignal = new Promise<'accepted'>(resolve => { onAccepted = () => { resolve('accepted') } })
  const onEvent = (e: ApplyEvent): void => {
    if (stream.writer !== undefined) {
      // Ordered: write() queues synchronously; it never rejects.
      stream.writer.write(eventLine(e)).catch(() => undefined)
      return
    }
    held.push(e)
    if (accepted(e)) onAccepted()
  }

  const result = Promise.resolve().then(async () => await run(onEvent))
  const first = await Promise.race([result.then(() => 'settled' as const, () => 'settled' as const), acceptedSignal])
  // Settled before it was accepted: a rejection becomes a plain error response (409/400/5xx).
  if (first === 'settled') await result

  const writer = stream.writer = startNdjson(reply, { heartbeatMs })
  for (const e of held) await writer.write(eventLine(e))
  try {
    const r = await result
    req.log.info({ result: r.result, revision: r.revision, failedStep: r.failedStep }, 'transaction finished')
    await writer.write(resultLine({ result: r }))
  } catch (err) {
    await writer.write(errorLine({ error: renderError(err, req).body }))
  } finally {
    writer.end()
  }
  return reply
}
