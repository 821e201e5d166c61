// The commands that work on the coordinator's state directory directly, on the coordinator's
// machine: `keyroll token create` and `keyroll audit verify`. They go through narrow ports
// (TokenIssuer, AuditVerifier) so that tests and the real store plug in the same way.
import { randomBytes } from 'node:crypto'
import { chmod, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { maskSecrets } from '../../shared/logger.js'
import { verifyStoreAudit } from './audit-verifier.js'
import { reportError } from './command.js'
import { CliError } from './errors.js'
import { out, printJson } from './output.js'
import { openStoreTokenIssuer, TOKEN_ROLES, type TokenRole } from './token-issuer.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'

/** The store file in a coordinator's state directory. */
export function storeFile (stateDir: string): string {
  return join(stateDir, 'keyroll.db')
}

// As coordinator/auth: the name is part of the token (`krt_<name>_<secret>`), so no `_`.
const TOKEN_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/

// The token file appears only complete and only 0600: written beside it, then renamed.
async function writeTokenFile (path: string, token: string, force: boolean): Promise<void> {
  if (!force) {
    try {
      await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' })
      await chmod(path, 0o600)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('CRD_CLI_USAGE', `--out ${path} exists; choose another file or add --force to replace it`)
      throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot write --out ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`
  try {
    await writeFile(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' })
    await chmod(tmp, 0o600)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new CliError('CRD_CLI_FILE_UNREADABLE', `cannot write --out ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** `keyroll token create`. */
export async function tokenCreate (io: CliIo, deps: CliDeps, o: { role: string, name: string, stateDir: string, out?: string, force?: boolean, json?: boolean }): Promise<number> {
  try {
    if (!TOKEN_ROLES.includes(o.role as TokenRole)) throw new CliError('CRD_CLI_USAGE', `--role must be one of ${TOKEN_ROLES.join(', ')}, not "${o.role}"`)
    if (!TOKEN_NAME.test(o.name)) throw new CliError('CRD_CLI_USAGE', `--name "${o.name}" is not valid: 1-63 of a-z, 0-9, "." and "-", starting with a letter or digit (it names the token in the audit log)`)
    const issuer = await (deps.openTokenIssuer ?? openStoreTokenIssuer)(o.stateDir)
    let token: string
    try {
      token = await issuer.create(o.name, o.role as TokenRole)
    } finally {
      await issuer.close()
    }
    if (o.out !== undefined) {
      await writeTokenFile(o.out, token, o.force === true)
      if (o.json === true) printJson(io, { name: o.name, role: o.role, file: o.out })
      else out(io, `created ${o.role} token "${o.name}"; written to ${o.out} (mode 0600): point KEYROLL_TOKEN_FILE at it`)
      return EXIT.ok
    }
    // The only place a token is printed: once, on stdout alone (so `> file` captures just it);
    // the explanation goes to stderr. Not through the secret mask: it is the point of the command.
    if (o.json === true) io.stdout.write(JSON.stringify({ name: o.name, role: o.role, token }) + '\n')
    else {
      io.stderr.write(maskSecrets(`created ${o.role} token "${o.name}"; it is shown once, below; keep it in a 0600 file and point KEYROLL_TOKEN_FILE at it\n`))
      io.stdout.write(`${token}\n`)
    }
    return EXIT.ok
  } catch (err) {
    return reportError(io, err)
  }
}

/** `keyroll token revoke NAME`: exit 0 when a live token was revoked, 2 when there was none of that name. */
export async function tokenRevoke (io: CliIo, deps: CliDeps, o: { name: string, stateDir: string, json?: boolean }): Promise<number> {
  try {
    if (!TOKEN_NAME.test(o.name)) throw new CliError('CRD_CLI_USAGE', `token name "${o.name}" is not valid: 1-63 of a-z, 0-9, "." and "-", starting with a letter or digit`)
    const issuer = await (deps.openTokenIssuer ?? openStoreTokenIssuer)(o.stateDir)
    let revoked: boolean
    try {
      revoked = await issuer.revoke(o.name)
    } finally {
      await issuer.close()
    }
    if (!revoked) throw new CliError('CRD_CLI_USAGE', `no live token named "${o.name}" in ${o.stateDir} (never created, or revoked already); nothing changed`)
    if (o.json === true) printJson(io, { name: o.name, revoked: true })
    else out(io, `revoked token "${o.name}": the coordinator refuses it (401) from its next request on`)
    return EXIT.ok
  } catch (err) {
    return reportError(io, err)
  }
}

/** `keyroll audit verify`: exit 0 when the chain is intact, 1 when it is not. */
export async function auditVerify (io: CliIo, deps: CliDeps, o: { stateDir: string, json?: boolean }): Promise<number> {
  try {
    const r = await (deps.verifyAudit ?? verifyStoreAudit)(storeFile(o.stateDir))
    if (o.json === true) printJson(io, r)
    else out(io, r.ok ? `audit log intact: ${r.entries} entries, head ${r.head}` : `AUDIT LOG BROKEN at entry #${r.firstBad?.seq ?? '?'}: ${r.firstBad?.reason ?? 'the chain does not verify'}`)
    return r.ok ? EXIT.ok : EXIT.failed
  } catch (err) {
    return reportError(io, err)
  }
}
