// Runs async tasks one after another (a mutex for state changes that span awaits).
export class Serial {
  #tail: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every task queued before it; resolves/rejects with its result. */
  async run<T> (task: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(task, task)
    this.#tail = p.catch(() => undefined)
    return await p
  }
}
