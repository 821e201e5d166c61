// The external Key Manager's admin key for `keyroll hsm migrate --admin-key-file F`: read from a
// file (never from the command line, where ps and shell history would show it), refused when
// other users can read or change the file, when it is empty, or when it holds more than one key.
// Messages name the file and what to do; they never quote its content.
import { readFile, stat } from 'node:fs/promises'
import { Secret } from '../../shared/secrets/secret.js'
import { CliError } from './errors.js'

/** Longest admin key the API takes. */
const MAX_KEY_CHARS = 256

/** Reads the admin key; throws a CliError (exit 2) saying what to fix. */
export async function readAdminKeyFile (path: string): Promise<Secret> {
  const flag = `--admin-key-file ${path}`
  let mode: number
  try {
    const s = await stat(path)
    if (!s.isFile()) throw new CliError('CRD_CLI_FILE_UNREADABLE', `${flag} is not a regular file; write the external Key Manager's root/SysAdmin API key into a file (chmod 600) and name it`)
    mode = s.mode
  } catch (err) {
    if (err instanceof CliError) throw err
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? (err as Error).message
    throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot read ${flag}: ${reason}; write the external Key Manager's root/SysAdmin API key into it (one line, chmod 600)`)
  }
  if ((mode & 0o007) !== 0) {
    throw new CliError('CRD_CLI_USAGE', `${flag} can be read or changed by every user (mode 0${(mode & 0o777).toString(8)}): chmod 600 ${path} (and treat the key as exposed if others could read it)`)
  }
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot read ${flag}: ${code === 'EACCES' ? 'permission denied' : code ?? (err as Error).message}`)
  }
  const key = text.trim()
  if (key === '') throw new CliError('CRD_CLI_USAGE', `${flag} is empty; write the external Key Manager's root/SysAdmin API key into it (one line)`)
  if (/\s/.test(key)) throw new CliError('CRD_CLI_USAGE', `${flag} must hold the API key alone, on one line (it holds more than one word or line)`)
  if (key.length > MAX_KEY_CHARS) throw new CliError('CRD_CLI_USAGE', `${flag} holds ${key.length} characters; an API key has at most ${MAX_KEY_CHARS}`)
  return new Secret(key)
}
