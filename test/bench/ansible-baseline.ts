// The baseline: what an Ansible playbook does to restart minkms and find out how it went.
//   - name: restart minkms            (ansible.builtin.systemd: name=minkms state=restarted)
//   - name: wait until ready          (ansible.builtin.uri: url=https://<node>:7373/v1/health/ready
//                                      register: r  until: r.status == 200  retries: 60  delay: 1)
// and, for a start that fails, the most attentive playbook: poll `systemctl is-failed minkms`
// every second (until/delay: 1) until systemd gives up on the unit. Ansible's own per-task
// overhead (SSH, module upload) is left out, so the baseline is as fast as such a playbook can be.
import { setTimeout as sleep } from 'node:timers/promises'
import { probe } from '../lab/health.js'
import { NODE_PATHS } from '../lab/node-files.js'
import type { Lab, LabNode } from '../lab/start-lab.js'

/** Ansible's `delay: 1`. */
export const POLL_DELAY_MS = 1000
const GIVE_UP_MS = 60_000

/** What one baseline round saw, wall-clock ms (journal times from __REALTIME_TIMESTAMP). */
export interface BaselineRound {
  restartAt: number
  /** When the playbook knew: the first 200 (good) or the first `failed` (bad). */
  knownAt: number
  /** The new run's ready line (good) or its first FATAL line (bad), if the journal has it. */
  lineAt: number | undefined
}

/** `until: <check>` with `delay: 1`: checks at once, then every second; the time of the first success. */
export async function pollUntil (check: () => Promise<boolean>, what: string): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await check().catch(() => false)) return Date.now()
    if (Date.now() - start > GIVE_UP_MS) throw new Error(`baseline: ${what} not seen within ${GIVE_UP_MS} ms`)
    await sleep(POLL_DELAY_MS)
  }
}

/**
 * The earliest journal entry of minkms at or after `since` whose message matches `grep`
 * (journalctl's PCRE), as wall-clock ms; undefined when there is none.
 */
export async function firstLineAt (lab: Lab, node: LabNode, grep: string, since: number): Promise<number | undefined> {
  const r = await lab.exec(node, ['journalctl', '--no-pager', '-u', 'minkms', '-o', 'json', '-g', grep, '--since', `@${Math.floor(since / 1000) - 1}`], { okCodes: [0, 1] })
  const times = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const us = (JSON.parse(l) as { __REALTIME_TIMESTAMP?: string }).__REALTIME_TIMESTAMP
    return us === undefined ? Number.NaN : Number(us) / 1000
  }).filter((ms) => ms >= since)
  return times.length === 0 ? undefined : Math.min(...times)
}

/** minkms on `node` answers /v1/health/ready with 200. */
export async function ready (lab: Lab, node: LabNode): Promise<boolean> {
  return await probe(node.address, node.port, 'ready', lab.ca.pem) === 200
}

/** `systemctl restart minkms`; throws when systemctl refuses. */
async function restart (lab: Lab, node: LabNode): Promise<void> {
  const r = await lab.systemctl(node, 'restart', 'minkms')
  if (r.code !== 0) throw new Error(`baseline: systemctl restart minkms exited ${r.code}: ${r.stderr.trim()}`)
}

/**
 * A good restart the Ansible way: restart, then GET /v1/health/ready every second until 200.
 * The start-limit counter is reset first (outside the timing) so every round starts alike.
 */
export async function baselineGoodRestart (lab: Lab, node: LabNode): Promise<BaselineRound> {
  await lab.systemctl(node, 'reset-failed', 'minkms')
  const restartAt = Date.now()
  await restart(lab, node)
  const knownAt = await pollUntil(async () => await ready(lab, node), 'health 200')
  return { restartAt, knownAt, lineAt: await firstLineAt(lab, node, 'Server is up and running', restartAt) }
}

/**
 * A failing restart the Ansible way: `badConfig` written by hand, restart, then
 * `systemctl is-failed minkms` every second until it says `failed` (minkms has Restart=always:
 * systemd gives up after the default start limit, 5 starts in 10 s). The good config is put back
 * and minkms restarted afterwards, whatever happened (not timed).
 */
export async function baselineFailedRestart (lab: Lab, node: LabNode, goodConfig: string, badConfig: string): Promise<BaselineRound> {
  await lab.writeFile(node, NODE_PATHS.config, badConfig)
  try {
    await lab.systemctl(node, 'reset-failed', 'minkms')
    const restartAt = Date.now()
    await restart(lab, node)
    const knownAt = await pollUntil(async () => (await lab.systemctl(node, 'is-failed', 'minkms')).stdout.trim() === 'failed', 'unit failed')
    return { restartAt, knownAt, lineAt: await firstLineAt(lab, node, 'FATAL', restartAt) }
  } finally {
    await lab.writeFile(node, NODE_PATHS.config, goodConfig)
    await lab.systemctl(node, 'reset-failed', 'minkms')
    await restart(lab, node)
  }
}
