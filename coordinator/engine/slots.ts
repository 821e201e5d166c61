// Boot-convergence slots, the coordinator's side of docs/agent-coordinator.md: a node's agent
// that must re-apply its desired revision at boot (and so restart minkms) asks first. At most one
// converging node per cluster, never while a rollout step runs there (applying, gating, holding
// or reverting a node); a slot not released within its ttl expires. Decided under the cluster
// lock the runner takes to start a step, so a slot and a step never both begin.
import { randomUUID } from 'node:crypto'
import type { Clock } from '../../shared/clock.js'
import type { StepState } from '../../shared/schemas/rollout.js'
import type { ClusterConfig } from '../config-schema.js'
import { CoordinatorError } from '../errors.js'
import type { SlotAnswer, SlotControl, SlotRequest } from '../ports/rollout-control.js'
import type { RolloutStore } from '../store/rollout-store.js'
import type { KeyedLock } from './cluster-lock.js'

const BUSY: readonly StepState[] = ['applying', 'gating', 'healthy', 'reverting']

/** Settings of the slots. */
export interface SlotOptions {
  ttlMs: number
  retryAfterMs: number
  newId?: () => string
}

/** SlotControl over the store. */
export class SlotService implements SlotControl {
  constructor (
    private readonly store: RolloutStore,
    private readonly clock: Clock,
    private readonly lock: KeyedLock,
    private readonly clusters: readonly ClusterConfig[],
    private readonly opts: SlotOptions
  ) {}

  async request (req: SlotRequest): Promise<SlotAnswer> {
    const cluster = this.clusters.find((c) => c.nodes.some((n) => n.name === req.node))
    if (cluster === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `node ${req.node} is in no cluster of the coordinator's config`)
    return await this.lock.run(cluster.name, async () => {
      const now = this.clock.now()
      const refuse = (message: string): SlotAnswer => ({ granted: false, retryAfterMs: this.opts.retryAfterMs, message })
      const open = await this.store.openSlots(cluster.name, now)
      const mine = open.find((s) => s.node === req.node)
      // An agent that restarted while holding its slot asks again: it keeps the slot it has.
      if (mine !== undefined) return { granted: true, slotId: mine.id, ttlMs: mine.expiresAt - now }
      const other = open[0]
      if (other !== undefined) return refuse(`${other.node} is converging (revision ${other.revision})`)
      for (const { rollout } of await this.store.activeRollouts()) {
        if (rollout.cluster !== cluster.name) continue
        const busy = rollout.nodes.find((s) => BUSY.includes(s.state))
        if (busy !== undefined) return refuse(`rollout ${rollout.id} is changing ${busy.node} (${busy.state})`)
      }
      const id = (this.opts.newId ?? randomUUID)()
      await this.store.putSlot({ id, cluster: cluster.name, node: req.node, revision: req.revision, grantedAt: now, expiresAt: now + this.opts.ttlMs })
      await this.store.appendAudit({ at: now, actor: `agent:${req.node}`, action: 'slot.grant', target: cluster.name, detail: { slotId: id, node: req.node, unit: req.unit, revision: req.revision } })
      return { granted: true, slotId: id, ttlMs: this.opts.ttlMs }
    })
  }

  async release (slotId: string, body: { revision: number, result: string, message?: string }): Promise<boolean> {
    const now = this.clock.now()
    const slot = await this.store.releaseSlot(slotId, now, body.result)
    if (slot === undefined) return false
    // The store answers a repeated release (an agent retrying) with the slot as first released.
    if (slot.releasedAt !== now) return true
    await this.store.appendAudit({ at: now, actor: `agent:${slot.node}`, action: 'slot.release', target: slot.cluster, detail: { slotId, node: slot.node, revision: body.revision, result: body.result, ...(body.message === undefined ? {} : { message: body.message }) } })
    return true
  }
}
