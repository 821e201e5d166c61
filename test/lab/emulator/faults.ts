// Fault switches for lab tests: files in a directory, read once at start. A file's presence turns
// a fault on; its content (a number of seconds) tunes it. See README.md for the list.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Default directory of fault files on a lab node. */
export const DEFAULT_FAULTS_DIR = '/var/lib/minkms-emu/faults'

/** Active faults; an absent property means the fault is off. Durations are in milliseconds. */
export interface Faults {
  /** Wait this long after unsealing before listening. */
  slowStartMs?: number
  /** Crash (`panic:` line, exit 2) this long after becoming ready. */
  crashAfterMs?: number
  /** Print the banner but keep /v1/health/ready at 503. */
  neverReady?: true
  /** Log a FATAL line and exit 1 at start. */
  exit1?: true
  /**
   * Exit 1 at start when the config file contains this text: a node that cannot take one
   * particular change, while the config it is rolled back to starts fine.
   */
  exit1IfConfig?: string
  /** Toggle readiness with this period once ready. */
  flapMs?: number
  /**
   * The external Key Manager HSM cannot unseal (as if unreachable from this node); it still seals.
   * A node with its local HSM starts; on the external HSM alone it cannot.
   */
  externalHsmDown?: true
  /** Refuse /v1/rpc/* from peers and call no peer: the node serves clients but is cut off from its cluster. */
  refusePeers?: true
}

/** Seconds used when a timed fault file is empty. */
const DEFAULT_SECONDS = { 'slow-start': 5, 'crash-after': 5, flap: 2 } as const

async function readFault (dir: string, name: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, name), 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw err
  }
}

/** Parses a file's content as seconds (fractions allowed); empty → `fallback`. */
function seconds (name: string, text: string, fallback: number, warn: (m: string) => void): number | undefined {
  if (text === '') return fallback * 1000
  const n = Number(text)
  if (!Number.isFinite(n) || n < 0) {
    warn(`fault '${name}' ignored: content '${text.slice(0, 40)}' is not a number of seconds`)
    return undefined
  }
  return Math.round(n * 1000)
}

/** Reads the fault switches in `dir`; a missing directory means no faults. */
export async function readFaults (dir: string, warn: (m: string) => void): Promise<Faults> {
  const faults: Faults = {}
  const timed = async (name: keyof typeof DEFAULT_SECONDS): Promise<number | undefined> => {
    const text = await readFault(dir, name)
    return text === undefined ? undefined : seconds(name, text, DEFAULT_SECONDS[name], warn)
  }
  const slow = await timed('slow-start')
  if (slow !== undefined) faults.slowStartMs = slow
  const crash = await timed('crash-after')
  if (crash !== undefined) faults.crashAfterMs = crash
  const flap = await timed('flap')
  if (flap !== undefined && flap > 0) faults.flapMs = flap
  if (await readFault(dir, 'never-ready') !== undefined) faults.neverReady = true
  if (await readFault(dir, 'exit-1') !== undefined) faults.exit1 = true
  if (await readFault(dir, 'refuse-peers') !== undefined) faults.refusePeers = true
  if (await readFault(dir, 'external-hsm-down') !== undefined) faults.externalHsmDown = true
  const ifConfig = await readFault(dir, 'exit-1-if-config')
  if (ifConfig === '') warn("fault 'exit-1-if-config' ignored: the file must hold the config text to react to")
  else if (ifConfig !== undefined) faults.exit1IfConfig = ifConfig
  return faults
}

/** Names of the active faults, for the start-up log. */
export function describeFaults (f: Faults): string[] {
  const out: string[] = []
  if (f.exit1 === true) out.push('exit-1')
  if (f.exit1IfConfig !== undefined) out.push('exit-1-if-config')
  if (f.slowStartMs !== undefined) out.push(`slow-start=${f.slowStartMs / 1000}s`)
  if (f.crashAfterMs !== undefined) out.push(`crash-after=${f.crashAfterMs / 1000}s`)
  if (f.neverReady === true) out.push('never-ready')
  if (f.flapMs !== undefined) out.push(`flap=${f.flapMs / 1000}s`)
  if (f.refusePeers === true) out.push('refuse-peers')
  if (f.externalHsmDown === true) out.push('external-hsm-down')
  return out
}
