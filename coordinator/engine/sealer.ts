// What the engine needs to keep a change (which may hold API keys) in the store: sealed text in,
// sealed text out. The coordinator's implementation is AES-256-GCM with its key (the same box the
// agent seals its state with); the engine opens a change only in memory, to send it to an agent.

/** Seals and opens text. `open` throws on text sealed with another key or corrupt. */
export interface Sealer {
  seal (text: string): string
  open (sealed: string): string
}
