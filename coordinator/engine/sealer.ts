// What the engine needs to keep a change (which may hold API keys) in the store: sealed text in,
// sealed text out. The coordinator's implementation is AES-256-GCM with its key (the same box the
// agent seals its state with, boxSealer below); the engine opens a change only in memory, to send
// it to an agent.
import type { SealedBox } from '../../shared/secrets/sealed-box.js'

/** Seals and opens text. `open` throws on text sealed with another key or corrupt. */
export interface Sealer {
  seal (text: string): string
  open (sealed: string): string
}

/** The engine's Sealer over the coordinator's SealedBox (coordinator/store/coordinator-sealing.ts). */
export function boxSealer (box: Pick<SealedBox, 'sealText' | 'unsealText'>): Sealer {
  return { seal: (text) => box.sealText(text), open: (sealed) => box.unsealText(sealed, 'rollout change') }
}
