// What the API asks about a cluster's adopted root API key (coordinator/gate/root-key-handover.ts):
// the view read endpoints show (identity and times, never the key) and the one hand-over.
import type { Secret } from '../../shared/secrets/secret.js'
import type { RootKeyView } from '../store/root-key-store.js'

/** A cluster's adopted root key, as the API sees it. */
export interface RootKeyControl {
  /** What views show, or undefined when the cluster runs on its configured key. */
  view (cluster: string): Promise<RootKeyView | undefined>
  /**
   * The key, once: audited under `actor` (without the key). Rejects with CRD_NOT_FOUND (unknown
   * cluster), CRD_ROOT_KEY_NONE (nothing adopted) or CRD_ROOT_KEY_HANDED_OVER (given before).
   */
  handOver (cluster: string, actor: string): Promise<{ identity: string, apiKey: Secret }>
}
