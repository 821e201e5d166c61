// The text `minkms --soft-hsm` prints, around a fresh key.

/** Output of `minkms --soft-hsm` for `hsmKey`. */
export function softHsmText (hsmKey: string): string {
  return `Your software HSM key:

   ${hsmKey}

This is the only time it is shown. Keep it secret and secure!

The HSM protects your KMS cluster as unseal mechanism by decrypting the
internal root encryption key ring.
Please store it at a secure location. For example, your password manager.
Without your HSM key you cannot decrypt any data within your KMS cluster.
`
}
