// When a node's minkms was down during a restart, read from the node's own journal: from
// systemd's "Stopping minkms.service" line to the new invocation's ready line. Comparing these
// windows across nodes proves (or disproves) that nodes restarted one at a time.
import type { Lab, LabNode } from './start-lab.js'

/** One restart of minkms on a node: microseconds since the epoch (journald's clock). */
export interface DownWindow { node: string, fromUs: number, toUs: number, invocationId: string }

interface Entry { __REALTIME_TIMESTAMP: string, MESSAGE?: unknown, _SYSTEMD_INVOCATION_ID?: string }

const READY = 'Server is up and running'

/** Every restart of minkms on `n` after `sinceUs`: Stopping → ready line of the next invocation. */
export async function downWindows (lab: Lab, n: LabNode | string, sinceUs: number): Promise<DownWindow[]> {
  const node = typeof n === 'string' ? lab.node(n) : n
  const r = await lab.exec(node, ['journalctl', '-u', 'minkms', '-o', 'json', '--no-pager', '--since', `@${Math.floor(sinceUs / 1e6)}`])
  const entries = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Entry)
    .filter((e) => Number(e.__REALTIME_TIMESTAMP) >= sinceUs)
  const windows: DownWindow[] = []
  let stopping: number | undefined
  for (const e of entries) {
    const msg = typeof e.MESSAGE === 'string' ? e.MESSAGE : ''
    const at = Number(e.__REALTIME_TIMESTAMP)
    if (stopping === undefined && /^Stopping minkms\.service/.test(msg)) stopping = at
    if (stopping !== undefined && msg.includes(READY) && e._SYSTEMD_INVOCATION_ID !== undefined) {
      windows.push({ node: node.name, fromUs: stopping, toUs: at, invocationId: e._SYSTEMD_INVOCATION_ID })
      stopping = undefined
    }
  }
  return windows
}

/** Pairs of windows of different nodes that overlap in time (empty when restarts were one at a time). */
export function overlaps (windows: readonly DownWindow[]): Array<[DownWindow, DownWindow]> {
  const found: Array<[DownWindow, DownWindow]> = []
  for (let i = 0; i < windows.length; i++) {
    for (let j = i + 1; j < windows.length; j++) {
      const a = windows[i] as DownWindow
      const b = windows[j] as DownWindow
      if (a.node !== b.node && a.fromUs < b.toUs && b.fromUs < a.toUs) found.push([a, b])
    }
  }
  return found
}
