// One mutex per cluster. Granting a boot slot and starting a node step are each a check followed
// by a write (no open slot → save the step `applying`; no step in flight → store the slot); taken
// under this lock, neither can slip between the other's check and write.

/** Runs callbacks one at a time per key. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => undefined)
    this.#tails.set(key, tail)
    try {
      return await next
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }
}
