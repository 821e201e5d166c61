// Validation of names and identities that requests carry. Names start with a letter or digit, so
// `__proto__` and friends can never become keys of the database's plain-object maps.

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/
const H1 = /^h1:[A-Za-z0-9_-]{43}$/

/** Enclave, key and policy names: 1–80 of `[A-Za-z0-9._-]`, starting with a letter or digit. */
export function isValidName (name: string): boolean {
  return NAME.test(name)
}

/** An `h1:` identity (base64url SHA-256, 43 characters). */
export function isValidIdentity (id: string): boolean {
  return H1.test(id)
}
