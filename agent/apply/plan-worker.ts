// The plan worker's entry (a worker_threads thread started by worker-planner.ts): plans each
// request with shared/change/plan.ts, the same code the agent would run in its own thread, and
// answers with the plan or the error. One request at a time, in the order they came.
import { parentPort } from 'node:worker_threads'
import { decodeChange } from '../../shared/change/change-transfer.js'
import { encodeError } from '../../shared/change/error-transfer.js'
import { planChange } from '../../shared/change/plan.js'
import { encodePlan } from '../../shared/change/plan-transfer.js'
import type { PlanReply, PlanRequest } from './plan-messages.js'

const port = parentPort
if (port === null) throw new Error('plan-worker.ts runs only as a worker thread (see worker-planner.ts)')
port.on('message', (req: PlanRequest) => {
  let reply: PlanReply
  try {
    reply = { id: req.id, ok: true, plan: encodePlan(planChange(req.current, decodeChange(req.change), req.opts)) }
  } catch (err) {
    reply = { id: req.id, ok: false, error: encodeError(err) }
  }
  port.postMessage(reply)
})
