// Parsing `systemctl show -p A,B,...` output into a UnitStatus. systemctl prints one `Key=value`
// line per property in an order of its own (measured on 252: not the order asked for), so the
// parser is by key, and refuses output that lacks a property rather than guessing a default.
import type { UnitStatus } from './service-manager.js'

/** The properties `status()` asks for, as passed to `systemctl show -p`. */
export const UNIT_PROPERTIES = [
  'ActiveState', 'SubState', 'Result', 'InvocationID', 'NRestarts', 'MainPID', 'ExecMainStatus', 'LoadState'
] as const

/** Thrown by {@link parseUnitStatus}; the adapter wraps it into its typed error. */
export class UnitShowParseError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UnitShowParseError'
  }
}

function integer (props: Map<string, string>, key: string): number {
  const raw = props.get(key) ?? ''
  // An empty value happens for a unit that never ran on some versions; it means "none yet".
  if (raw === '') return 0
  if (!/^\d+$/.test(raw)) throw new UnitShowParseError(`systemctl show: ${key}=${raw} is not a non-negative integer`)
  return Number(raw)
}

/** Parses `systemctl show` output (any order, unknown keys ignored, values may contain `=`). */
export function parseUnitStatus (stdout: string): UnitStatus {
  const props = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    props.set(line.slice(0, eq), line.slice(eq + 1).trimEnd())
  }
  const missing = UNIT_PROPERTIES.filter((k) => !props.has(k))
  if (missing.length > 0) throw new UnitShowParseError(`systemctl show did not report ${missing.join(', ')}`)
  return {
    activeState: props.get('ActiveState') ?? '',
    subState: props.get('SubState') ?? '',
    result: props.get('Result') ?? '',
    invocationId: props.get('InvocationID') ?? '',
    nRestarts: integer(props, 'NRestarts'),
    mainPid: integer(props, 'MainPID'),
    execMainStatus: integer(props, 'ExecMainStatus'),
    loadState: props.get('LoadState') ?? ''
  }
}
