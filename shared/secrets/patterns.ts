// Recognising secrets that nobody marked as such (defence in depth): a change spec author may
// forget `!secret`, and an existing file may already hold keys. These rules decide what is
// masked in diffs, views and logs even when unwrapped. They err on the side of masking: a masked
// non-secret costs readability, an unmasked secret costs a key rotation.

// minkms API keys (`k1:`/`k2:` + base64url, minkms.md §3.4) and HSM keys (`hsm:aes256:` + base64,
// §1.5). At least 20 key characters so that host:port strings such as `k1:7373` do not match.
const API_KEY = String.raw`k[0-9]+:[A-Za-z0-9_-]{20,}`
const HSM_KEY = String.raw`hsm:[A-Za-z0-9]+:[A-Za-z0-9+/=_-]{20,}`
const BOUNDARY = String.raw`(?<![A-Za-z0-9_-])`

/** Matches every API key or HSM key inside a text (global regex: use with matchAll/replace). */
export function secretValuePattern (): RegExp {
  return new RegExp(`${BOUNDARY}(?:${HSM_KEY}|${API_KEY})`, 'g')
}

/** True when `s` contains something that looks like an API key or HSM key. */
export function looksLikeSecretValue (s: string): boolean {
  return secretValuePattern().test(s)
}

/** Every API-key or HSM-key lookalike in `text`, in order of appearance. */
export function findSecretLikeValues (text: string): string[] {
  return [...text.matchAll(secretValuePattern())].map(m => m[0])
}

const SECRET_ENV_NAME = /KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL/i

/** True for environment variable names whose values are always secret (`MINIO_KMS_HSM_KEY`, `*_TOKEN`). */
export function isSecretEnvName (name: string): boolean {
  return SECRET_ENV_NAME.test(name)
}

// In the minkms YAML, `key` alone is NOT secret (`hsm.minio.minkms.key` names a key,
// `tls.certs[].key` is a file path), so config keys are matched by name, plus `auth.key`. HSM
// blocks of other kinds spell their secrets many ways (`secret-key`, `secret_access_key`,
// `client_secret`, `session-token`, `pin`), so a name holding one of these words is secret, and so
// is every value inside a secret-named mapping (`credentials: { accesskey: …, secretkey: … }`):
// matching exact names only showed such values in clear in the diff that removes the block.
const SECRET_CONFIG_KEY = /^(?:api[-_]?key|private[-_]?key|pin|credentials?)$|secret|passw(?:or)?d|passphrase|token/i
// Only these mapping names make everything inside them secret: a kind named after secrets
// (`hsm.aws.secretsmanager`) holds endpoints and regions too, which stay readable.
const SECRET_CONFIG_CONTAINER = /^(?:credentials?|secrets?)$/i

/**
 * True when the value at this config path is secret by name: `…auth.key` (the API key of an
 * external HSM), `api-key`, `private-key`, `pin`, any name holding `secret`, `password`, `passwd`,
 * `passphrase` or `token`, and anything inside a mapping so named (`credentials.…`).
 */
export function isSecretConfigPath (segments: readonly string[]): boolean {
  const last = segments.at(-1)
  if (last === undefined) return false
  if (last === 'key' && segments.at(-2) === 'auth') return true
  return SECRET_CONFIG_KEY.test(last) || segments.slice(0, -1).some(s => SECRET_CONFIG_CONTAINER.test(s))
}
