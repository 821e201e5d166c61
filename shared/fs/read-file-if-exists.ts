import { readFile } from 'node:fs/promises'

/** The UTF-8 content of `path`, or undefined when it does not exist. Other errors (EACCES, EISDIR) throw. */
export async function readFileIfExists (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
