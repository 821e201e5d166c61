// The CA this node's minkms would verify the external Key Manager's certificate against, so the
// preflight's TLS check means what minkms's own start will meet: minkms takes the trust for its
// outgoing calls (external HSM, other nodes) from `tls.ca` of its config, a CA file or a directory
// of PEM files; without `tls.ca`, the system trust store.
//
// Read from the config file this agent manages (`files.config.path`), as it is on disk now. A
// relative `tls.ca` is refused rather than guessed: it resolves against minkms's working
// directory, which the agent cannot know. Only certificates are read, never a key.
import { readdir, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { parseDocument } from 'yaml'

/** The trust of the node's minkms, or why it could not be read. */
export type MinkmsTrust =
  | { source: 'system' }
  | { source: 'tls.ca', path: string, ca: string[] }
  | { source: 'tls.ca' | 'system', path?: string, error: string }

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Reads `tls.ca` of the minkms config at `configPath` and the certificates it names. */
export async function readMinkmsTrust (configPath: string): Promise<MinkmsTrust> {
  let text: string
  try {
    text = await readFile(configPath, 'utf8')
  } catch (err) {
    return { source: 'system', error: `cannot read the minkms config ${configPath}: ${reasonOf(err)}` }
  }
  const doc = parseDocument(text, { uniqueKeys: false })
  // Errors are named by position only: a broken line may hold a secret.
  if (doc.errors.length > 0) return { source: 'system', error: `the minkms config ${configPath} is not valid YAML (${doc.errors[0]?.code ?? 'parse error'})` }
  const ca: unknown = doc.getIn(['tls', 'ca'])
  if (ca === undefined || ca === null || ca === '') return { source: 'system' }
  if (typeof ca !== 'string') return { source: 'tls.ca', error: `tls.ca in ${configPath} is not a path` }
  if (!isAbsolute(ca)) return { source: 'tls.ca', path: ca, error: `tls.ca '${ca}' is relative; the agent cannot tell which directory minkms resolves it from (make it absolute)` }
  try {
    return { source: 'tls.ca', path: ca, ca: await readCaPems(ca) }
  } catch (err) {
    return { source: 'tls.ca', path: ca, error: `cannot read the CA certificates of tls.ca '${ca}': ${reasonOf(err)}` }
  }
}

/** Every PEM certificate in a file, or in the regular files of a directory (sorted by name). */
export async function readCaPems (path: string): Promise<string[]> {
  const files = (await stat(path)).isDirectory()
    ? (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(path, e.name)).sort()
    : [path]
  const out: string[] = []
  for (const f of files) out.push(...((await readFile(f, 'utf8')).match(PEM_CERT) ?? []).map((b) => b + '\n'))
  if (out.length === 0) throw new Error('no PEM certificate found there')
  return out
}

function reasonOf (err: unknown): string {
  const e = err as { code?: unknown, message?: unknown }
  return typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? e.message : String(err)
}
