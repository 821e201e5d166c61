// Where the coordinator is and how to talk to it: flags over KEYROLL_URL, KEYROLL_CA and
// KEYROLL_TOKEN_FILE. The token is read from its file and only ever goes into the Authorization
// header: no message, log line or output quotes it.
import { readFile, stat } from 'node:fs/promises'
import { CliError } from './errors.js'
import type { CliIo } from './types.js'

/** The connection flags every API command takes. */
export interface ConnectionOptions { url?: string, ca?: string, tokenFile?: string }

/** A resolved connection. */
export interface Connection {
  url: URL
  /** Where the URL came from, for messages (`--url` or `KEYROLL_URL`). */
  urlSource: string
  /** PEM CA bundle for the coordinator's certificate; absent: Node's trust store. */
  ca?: string
  caSource?: string
  token: string
  tokenSource: string
}

// What a bearer token may hold: printable ASCII, no spaces (a header value cannot carry more).
const TOKEN_CHARS = /^[\x21-\x7e]+$/

/** Resolves the connection settings, reading the CA and the token file. */
export async function resolveConnection (o: ConnectionOptions, env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<Connection> {
  const pick = (flag: string | undefined, flagName: string, envName: string): { value: string, source: string } | undefined => {
    if (flag !== undefined && flag !== '') return { value: flag, source: flagName }
    const v = env[envName]
    return v === undefined || v === '' ? undefined : { value: v, source: envName }
  }
  const url = pick(o.url, '--url', 'KEYROLL_URL')
  if (url === undefined) throw new CliError('CRD_CLI_USAGE', 'no coordinator URL: set KEYROLL_URL (e.g. https://coord.example.net:7480) or pass --url')
  let parsed: URL
  try {
    parsed = new URL(url.value)
  } catch {
    throw new CliError('CRD_CLI_USAGE', `${url.source} is not a URL: "${url.value}"`)
  }
  if (parsed.protocol !== 'https:') throw new CliError('CRD_CLI_USAGE', `${url.source} must be an https:// URL (the coordinator serves its API over TLS), not ${parsed.protocol}//`)
  if (parsed.username !== '' || parsed.password !== '') throw new CliError('CRD_CLI_USAGE', `${url.source} must not carry credentials; the token comes from KEYROLL_TOKEN_FILE or --token-file`)

  const tokenFile = pick(o.tokenFile, '--token-file', 'KEYROLL_TOKEN_FILE')
  if (tokenFile === undefined) throw new CliError('CRD_CLI_USAGE', 'no token: set KEYROLL_TOKEN_FILE or pass --token-file (a file written by keyroll token create --out)')
  const token = (await readText(tokenFile.value, `the token file (${tokenFile.source})`)).trim()
  if (token === '') throw new CliError('CRD_CLI_USAGE', `the token file ${tokenFile.value} (${tokenFile.source}) is empty`)
  if (!TOKEN_CHARS.test(token)) throw new CliError('CRD_CLI_USAGE', `the token file ${tokenFile.value} (${tokenFile.source}) does not hold one token (it must be a single line without spaces)`)
  const mode = (await stat(tokenFile.value)).mode
  if ((mode & 0o077) !== 0) io.stderr.write(`warning: the token file ${tokenFile.value} can be read by other users (mode 0${(mode & 0o777).toString(8)}); chmod 600 it\n`)

  const conn: Connection = { url: parsed, urlSource: url.source, token, tokenSource: tokenFile.source }
  const ca = pick(o.ca, '--ca', 'KEYROLL_CA')
  if (ca !== undefined) {
    conn.ca = await readText(ca.value, `the CA file (${ca.source})`)
    conn.caSource = ca.source
  }
  return conn
}

/** Reads a text file named on the command line; refuses with CRD_CLI_FILE_UNREADABLE. */
export async function readText (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code ?? (err as Error).message
    throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot read ${what} ${path}: ${reason}`)
  }
}
