// Which root API key a node runs with. Real minkms derives its root API key from "the HSM"; which
// HSM once several are configured, and whether it changes when MINIO_KMS_HSM_KEY goes away, is
// not documented. The emulator offers both answers, so keyroll can be tested in both worlds:
// - `stored` (default): the key is kept in `root-key.json` at first start and survives any HSM
//   change (root-key-store.ts);
// - `derived`: at every start the key is derived from the HSM that unsealed the REK (for a fresh
//   data directory, the first configured one), never stored. Removing the soft HSM then changes a
//   node's root API key, so its client certificate and the identity it accepts as root change
//   too, and peers still on the old HSM refuse its internode calls (and it theirs) until every
//   node restarted on the same HSM.
import type { Hsm } from './hsm.js'
import { k1FromSeed } from './root-key.js'

/** The switch's environment variable (read by main.ts). */
export const ROOT_IDENTITY_ENV = 'MINKMS_EMU_ROOT_IDENTITY'

export const ROOT_IDENTITY_MODES = ['stored', 'derived'] as const
export type RootIdentityMode = typeof ROOT_IDENTITY_MODES[number]

/** The mode of an environment value: unset or empty is `stored`; anything else unknown is refused. */
export function parseRootIdentityMode (value: string | undefined): { ok: true, mode: RootIdentityMode } | { ok: false, reason: string } {
  const v = (value ?? '').trim()
  if (v === '') return { ok: true, mode: 'stored' }
  if ((ROOT_IDENTITY_MODES as readonly string[]).includes(v)) return { ok: true, mode: v as RootIdentityMode }
  return { ok: false, reason: `invalid ${ROOT_IDENTITY_ENV} '${v.slice(0, 32)}': expected ${ROOT_IDENTITY_MODES.join(' or ')}` }
}

/** The HSM a derived root key comes from: the one that unsealed the REK, else the first configured. */
export function identityHsm (hsms: readonly Hsm[], unsealedBy: string | undefined): Hsm {
  const hsm = hsms.find((h) => h.name === unsealedBy) ?? hsms[0]
  if (hsm === undefined) throw new Error('no HSM to derive the root API key from')
  return hsm
}

/** The root API key derived from `hsm` (for the soft HSM: what `minkms identity hsm:aes256:…` prints). */
export function derivedRootApiKey (hsm: Hsm): string {
  return k1FromSeed(hsm.rootKeySeed())
}
