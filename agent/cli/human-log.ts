// Log lines of a one-shot CLI command (plan, apply, status …) for the person who ran it: the
// daemon's JSON lines are for journald and log shippers, but a warning printed by `apply` in a
// terminal should read as one (`keyroll-agent: warning: …`). The lines arrive masked already (the
// logger masks before its destination); fields besides the message are kept as key=value, so
// nothing the JSON said is lost. A line that is not JSON is passed on as it is.
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' }
const DROP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'node', 'msg'])

/** A destination that turns pino's JSON lines into `keyroll-agent: LEVEL: message (k=v …)`. */
export function humanLogDestination (target: { write: (line: string) => unknown }): { write: (line: string) => void } {
  return {
    write: (line: string) => {
      let rec: Record<string, unknown>
      try {
        rec = JSON.parse(line) as Record<string, unknown>
      } catch {
        target.write(line)
        return
      }
      const level = LEVELS[Number(rec.level)] ?? 'log'
      const rest = Object.entries(rec).filter(([k]) => !DROP.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      target.write(`keyroll-agent: ${level}: ${String(rec.msg ?? '')}${rest.length === 0 ? '' : ` (${rest.join(', ')})`}\n`)
    }
  }
}
