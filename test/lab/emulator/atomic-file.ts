// Crash-safe writes to the data directory: temp file in the same directory, fsync, rename over the
// target, fsync the directory. A reader sees the old or the new content, never a torn file.
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Writes `data` to `path` atomically with file mode `mode` (default owner-only). */
export async function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  const d = await open(dir, 'r')
  try { await d.sync() } finally { await d.close() }
}

/** Writes a JSON document atomically (pretty-printed, trailing newline). */
export async function writeJsonAtomic (path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n')
}

/** Reads a JSON document; `undefined` when the file does not exist. */
export async function readJsonFile (path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new Error(`${path} is not valid JSON`, { cause: err })
  }
}
