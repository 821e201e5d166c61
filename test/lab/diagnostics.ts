// What the nodes said, attached to a failed `up` so a CI log shows why without a rerun.
import { readFile } from 'node:fs/promises'
import type { ProcessRunner } from '../../shared/process-runner.js'
import type { LabNodeState } from './lab-state.js'
import { ANY_EXIT_CODE, nodeExec } from './node-shell.js'

const SCRIPT = 'systemctl is-system-running; systemctl --failed --no-legend --plain; journalctl -u minkms -n 15 --no-pager -o cat'

/** The tail of each node's nspawn log, its system state, failed units and minkms journal. */
export async function nodeDiagnostics (nodes: readonly LabNodeState[], runner: ProcessRunner): Promise<string> {
  const parts = await Promise.all(nodes.map(async (n) => {
    const lines = [`## ${n.name} (${n.address}) leader=${n.leaderPid ?? '-'}`]
    const nspawnLog = await readFile(n.log, 'utf8').catch(() => '')
    lines.push(...nspawnLog.trim().split('\n').slice(-5).map((l) => `nspawn: ${l}`))
    if (n.leaderPid !== undefined) {
      const r = await nodeExec(n.leaderPid, ['sh', '-c', SCRIPT], { okCodes: ANY_EXIT_CODE, timeoutMs: 5000 }, runner)
        .catch((e: unknown) => ({ stdout: `(nsenter failed: ${(e as Error).message})` }))
      lines.push(...r.stdout.trim().split('\n').map((l) => `  ${l}`))
    }
    return lines.join('\n')
  }))
  return parts.join('\n')
}
