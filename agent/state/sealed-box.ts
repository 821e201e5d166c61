// The agent's sealed box: shared/secrets/sealed-box.ts with the agent's key file (`agent.key` in
// its state dir), its derive() label and its error (AGT_STATE_SEALED). The agent seals backups of
// the env file (MINIO_KMS_HSM_KEY) and the accepted change (API keys) with it.
import { SealedBox as SharedSealedBox, checkedKey, loadKey, type SealingKind } from '../../shared/secrets/sealed-box.js'
import { SealedBoxError } from '../errors.js'

/** The agent's kind of box; its label keeps the derived keys (diff fingerprints) of earlier versions. */
export const AGENT_SEALING: SealingKind = {
  keyFile: 'agent.key',
  label: 'keyroll-agent',
  error: (what) => new SealedBoxError(what)
}

/** AES-256-GCM with the agent's key. */
export class SealedBox extends SharedSealedBox {
  /** A box with an explicit key (tests). */
  static override withKey (key: Buffer): SealedBox {
    return new SealedBox(checkedKey(key), AGENT_SEALING)
  }

  /** Loads `<dir>/agent.key`, creating it (0600, exclusive create) on first use. */
  static override async open (dir: string): Promise<SealedBox> {
    return new SealedBox(await loadKey(dir, AGENT_SEALING), AGENT_SEALING)
  }
}
