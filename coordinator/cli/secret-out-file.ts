// A file a secret shown once will be written to (`keyroll hsm migrate --api-key-out FILE`). It is
// created empty, 0600 and exclusively BEFORE the request that makes the secret, so a path that
// cannot be written fails the command before anything starts, and a secret answered once is never
// lost to an unwritable path. Written, it is complete; discarded, it is gone.
import { open, rm, type FileHandle } from 'node:fs/promises'
import type { Secret } from '../../shared/secrets/secret.js'
import { CliError } from './errors.js'

/** A reserved secret file. */
export interface SecretOutFile {
  path: string
  /** Writes the secret (one line) and closes the file. */
  write: (secret: Secret) => Promise<void>
  /** Closes and removes the file (nothing was written). */
  discard: () => Promise<void>
}

/** Creates `path` empty with mode 0600; refuses (exit 2) when it exists or cannot be created. */
export async function reserveSecretFile (path: string, flag: string): Promise<SecretOutFile> {
  let fh: FileHandle
  try {
    fh = await open(path, 'wx', 0o600)
    await fh.chmod(0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new CliError('CRD_CLI_USAGE', `${flag} ${path} exists; choose a new file (the key is shown once and is never written over another file)`)
    throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot create ${flag} ${path}: ${code ?? (err as Error).message}`)
  }
  let open_ = true
  const close = async (): Promise<void> => {
    if (open_) { open_ = false; await fh.close() }
  }
  return {
    path,
    write: async (secret) => {
      try {
        await fh.writeFile(`${secret.reveal()}\n`)
        await fh.sync()
      } finally {
        await close()
      }
    },
    discard: async () => {
      await close()
      await rm(path, { force: true })
    }
  }
}
