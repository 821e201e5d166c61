// Command line of the `minkms` binary as the emulator supports it:
//   minkms server DIR [--address IP[:PORT]] [--host HOST[:PORT]] [--config FILE] [--license FILE]
//   minkms --version | minkms --soft-hsm | minkms identity [hsm:aes256:…|k1:…|k2:…|CERT-FILE]
// Parsing is pure: it returns what to run, or a usage error that main.ts prints and exits 2 on.
import { parseArgs } from 'node:util'

export type CliCommand =
  | { kind: 'server', dataDir: string, address: string, host?: string, config?: string }
  | { kind: 'version' }
  | { kind: 'soft-hsm' }
  | { kind: 'identity', arg?: string }
  | { kind: 'help' }
  | { kind: 'usage-error', message: string }

/** Default listen address. */
export const DEFAULT_ADDRESS = '0.0.0.0:7373'

export const USAGE = `Usage:
    minkms server DIR [--address IP[:PORT]] [--host HOST:PORT] [--config FILE]
    minkms identity [hsm:aes256:KEY | k1:KEY | k2:KEY | CERT-FILE]
    minkms --soft-hsm
    minkms --version
(minkms emulator: other minkms commands are not implemented)`

/** `IP[:PORT]` → `IP:PORT` with port 7373 by default; undefined when malformed. */
export function normaliseAddress (text: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(text)
  if (m === null) return undefined
  const ip = m[1] ?? m[2] ?? ''
  const port = m[3] === undefined ? 7373 : Number(m[3])
  if (port > 65535) return undefined
  const hostPart = ip === '' ? '0.0.0.0' : ip
  return `${hostPart.includes(':') ? `[${hostPart}]` : hostPart}:${port}`
}

function serverCommand (args: string[]): CliCommand {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        address: { type: 'string' },
        addr: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        license: { type: 'string' }
      }
    })
  } catch (err) {
    return { kind: 'usage-error', message: (err as Error).message }
  }
  const { values, positionals } = parsed
  if (positionals.length === 0) return { kind: 'usage-error', message: 'minkms server: missing data directory (DIR)' }
  if (positionals.length > 1) return { kind: 'usage-error', message: `minkms server: unexpected argument '${positionals[1] ?? ''}'` }
  const rawAddress = values.address ?? values.addr ?? DEFAULT_ADDRESS
  const address = normaliseAddress(rawAddress)
  if (address === undefined) return { kind: 'usage-error', message: `minkms server: invalid --address '${rawAddress}': expected IP[:PORT]` }
  if (values.host !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+)(:\d{1,5})?$/.test(values.host)) {
    return { kind: 'usage-error', message: `minkms server: invalid --host '${values.host}': expected HOST:PORT` }
  }
  if (values.config === '') return { kind: 'usage-error', message: 'minkms server: --config needs a file' }
  const dataDir = positionals[0] ?? ''
  return {
    kind: 'server',
    dataDir,
    address,
    ...(values.host !== undefined && { host: values.host }),
    ...(values.config !== undefined && { config: values.config })
  }
}

/** Parses `process.argv.slice(2)`. */
export function parseCli (argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv
  switch (first) {
    case undefined:
      return { kind: 'usage-error', message: 'minkms: missing command' }
    case '--version': case '-v': case 'version':
      return rest.length === 0 ? { kind: 'version' } : { kind: 'usage-error', message: `minkms ${first}: takes no arguments` }
    case '--soft-hsm':
      return rest.length === 0 ? { kind: 'soft-hsm' } : { kind: 'usage-error', message: 'minkms --soft-hsm: takes no arguments' }
    case '--help': case '-h': case 'help':
      return { kind: 'help' }
    case 'server':
      return serverCommand(rest)
    case 'identity':
      if (rest.length > 1) return { kind: 'usage-error', message: 'minkms identity: takes at most one argument' }
      if (rest[0]?.startsWith('-') === true) return { kind: 'usage-error', message: `minkms identity: unknown flag '${rest[0]}'` }
      return rest[0] === undefined ? { kind: 'identity' } : { kind: 'identity', arg: rest[0] }
    default:
      return { kind: 'usage-error', message: `minkms: unknown command '${first}'` }
  }
}
