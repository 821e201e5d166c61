// The HSM migration as a lab test drives it: through the coordinator's API (the same calls
// `keyroll hsm migrate` makes), polling the migration's view with a deadline, and the checks on
// the nodes that prove what the migration did (each node's cluster status, a client round trip
// through each node on its own).
import { createMinkmsClient } from '../../shared/minkms/client.js'
import type { HsmMigration, HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import { TERMINAL_HSM_MIGRATION_STATES } from '../../shared/schemas/hsm-migration.js'
import { crashCoordinator } from './coordinator-unit.js'
import { probe } from './health.js'
import type { KeyrollLab } from './keyroll-lab.js'
import type { Lab, LabNode, TeardownHost } from './start-lab.js'

/** What a lab test does with migrations. */
export interface MigrationLab {
  /** Starts a migration and waits until it settles (terminal, or paused); a 4xx start throws. */
  run (body: Record<string, unknown>): Promise<HsmMigration>
  get (id: string): Promise<HsmMigration>
  /** Polls the migration until `pred` holds (deadline 120 s). */
  until (id: string, pred: (m: HsmMigration) => boolean, what?: string): Promise<HsmMigration>
  /** Polls until the migration is terminal or paused. */
  settle (id: string): Promise<HsmMigration>
  steer (id: string, action: 'pause' | 'resume' | 'abort'): Promise<HsmMigration>
  events (id: string): Promise<HsmMigrationEvent[]>
  /** SIGKILLs the coordinator's unit and waits until systemd restarted it and it is ready. */
  killCoordinator (): Promise<void>
  /** Every node answers an encrypt→decrypt round trip on its own. */
  serves (nodes: readonly LabNode[]): Promise<boolean>
  /** The HSMs a node's own cluster status shows configured and holding a sealed root key. */
  hsmStatus (node: LabNode): Promise<{ configured: string[], sealed: string[] }>
  /** Waits until a node's minkms answers ready. */
  waitReady (node: LabNode): Promise<void>
}

const SETTLED = [...TERMINAL_HSM_MIGRATION_STATES, 'paused']

export function migrationLab (t: TeardownHost, lab: Lab, kr: KeyrollLab): MigrationLab {
  const get = async (id: string): Promise<HsmMigration> => {
    const r = await kr.call('GET', `/v1/hsm-migrations/${id}`, undefined, { as: 'viewer' })
    if (r.status !== 200) throw new Error(`migration ${id}: ${r.status} ${r.text}`)
    return r.json as HsmMigration
  }
  const until: MigrationLab['until'] = async (id, pred, what = 'the migration') => {
    const deadline = Date.now() + 180_000
    let last: HsmMigration | undefined
    const seen = (): string => JSON.stringify(last === undefined ? null : { state: last.state, phase: last.phase, message: last.message, nodes: last.nodes.map((n) => ({ name: n.name, A: n.phases.A?.state, B: n.phases.B?.state })), rollouts: last.rollouts, warnings: last.warnings })
    for (;;) {
      // The coordinator may be restarting (a kill): an unanswered poll is a retry, not a failure.
      const m = await get(id).catch(() => undefined)
      if (m !== undefined) {
        last = m
        if (pred(m)) return m
        // Settled elsewhere than awaited: say where at once rather than at the deadline.
        if (SETTLED.includes(m.state)) throw new Error(`waiting for ${what}, the migration settled instead: ${seen()}`)
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${seen()}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const settle = async (id: string): Promise<HsmMigration> => {
    // Settling is what is awaited here, so a settled migration is the answer, not an error.
    const deadline = Date.now() + 240_000
    for (;;) {
      const m = await get(id).catch(() => undefined)
      if (m !== undefined && SETTLED.includes(m.state)) return m
      if (Date.now() > deadline) throw new Error(`timed out waiting for migration ${id} to settle (${m?.state ?? 'no answer'} in ${m?.phase ?? '?'})`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const client = (n: LabNode): ReturnType<typeof createMinkmsClient> =>
    createMinkmsClient({ endpoints: [`${n.address}:${n.port}`], apiKey: lab.rootKey('cluster'), ca: lab.ca.pem })

  return {
    get,
    until,
    settle,
    run: async (body) => {
      const r = await kr.call('POST', '/v1/hsm-migrations', body)
      if (r.status !== 201) throw new Error(`start: ${r.status} ${r.text}`)
      return await settle((r.json as { migration: HsmMigration }).migration.id)
    },
    steer: async (id, action) => {
      const r = await kr.call('POST', `/v1/hsm-migrations/${id}/${action}`, {})
      if (r.status !== 200) throw new Error(`${action} ${id}: ${r.status} ${r.text}`)
      return r.json as HsmMigration
    },
    events: async (id) => {
      const r = await kr.call('GET', `/v1/hsm-migrations/${id}/events?follow=0`, undefined, { as: 'viewer' })
      if (r.status !== 200) throw new Error(`events of ${id}: ${r.status} ${r.text}`)
      return r.text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== '{}').map((l) => JSON.parse(l) as HsmMigrationEvent)
    },
    killCoordinator: async () => { await crashCoordinator(lab, kr) },
    serves: async (nodes) => {
      for (const n of nodes) {
        const c = client(n)
        try {
          const plain = Buffer.from(`probe ${n.name}`)
          const sealed = await c.encrypt('load', 'load-key', plain)
          const opened = await c.decrypt('load', 'load-key', sealed.ciphertext, { version: sealed.version })
          if (!Buffer.from(opened).equals(plain)) return false
        } catch {
          return false
        } finally {
          await c.close()
        }
      }
      return true
    },
    hsmStatus: async (n) => {
      const c = client(n)
      t.teardown(async () => { await c.close() })
      // The node's own entry: CLUSTER:STATUS answers for every member, each about its own disk.
      const self = Object.values((await c.clusterStatus()).nodesUp).find((s) => s.host === `${n.address}:${n.port}` || s.host.startsWith(`${n.address}:`))
      if (self === undefined) throw new Error(`${n.name} is not in its own cluster status`)
      return { configured: self.configuredHsms, sealed: self.hsms }
    },
    waitReady: async (n) => {
      await lab.waitFor(async () => await probe(n.address, n.port, 'ready', lab.ca.pem) === 200, { timeoutMs: 30_000, what: `${n.name} ready` })
    }
  }
}
