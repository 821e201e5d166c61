// `minkms identity [hsm:aes256:… | k1:… | k2:… | CERT-FILE]`:
// with an HSM key it prints the root API key nodes started with that key use, with an API key or
// a certificate its identity, and with nothing a new API key.
import { readFile } from 'node:fs/promises'
import { generateApiKey, identityOfCertificate, parseApiKey } from '../../../shared/minkms/keys.js'
import { parseHsmKey } from './hsm-key.js'
import { deriveRootApiKey } from './root-key.js'

/** Result of the command: text for stdout, or an error for stderr (exit 2). */
export type IdentityOutput = { ok: true, stdout: string } | { ok: false, stderr: string }

function keyAndIdentity (key: string, identity: string): string {
  return `Your API key:

${key}

This is the only time it is shown. Keep it secret and secure!

Your API key's identity:

${identity}

The identity is not a secret and can be shared securely.
Peers need your identity in order to verify your API key.

This identity can be re-computed again via:

$ minkms identity ${key}
`
}

export async function identityCommand (arg: string | undefined): Promise<IdentityOutput> {
  if (arg === undefined) {
    const { key, identity } = generateApiKey('k1')
    return { ok: true, stdout: keyAndIdentity(key, identity) }
  }
  if (arg.startsWith('hsm:')) {
    const parsed = parseHsmKey(arg)
    if (!parsed.ok) return { ok: false, stderr: `minkms identity: invalid HSM key: ${parsed.reason}\n` }
    const root = deriveRootApiKey(parsed.key)
    return { ok: true, stdout: keyAndIdentity(root, parseApiKey(root).identity) }
  }
  if (arg.startsWith('k1:') || arg.startsWith('k2:')) {
    try {
      return { ok: true, stdout: `${parseApiKey(arg).identity}\n` }
    } catch (err) {
      return { ok: false, stderr: `minkms identity: ${(err as Error).message}\n` }
    }
  }
  let text: string
  try {
    text = await readFile(arg, 'utf8')
  } catch (err) {
    return { ok: false, stderr: `minkms identity: '${arg}' is neither a key nor a readable certificate file: ${(err as Error).message}\n` }
  }
  try {
    return { ok: true, stdout: `${identityOfCertificate(text)}\n` }
  } catch (err) {
    return { ok: false, stderr: `minkms identity: ${arg}: ${(err as Error).message}\n` }
  }
}
