// Port: notification when managed files change on disk (drift detection).

/** One debounced change of a watched file. */
export interface FileChange {
  path: string
  /** What happened to it; `unlink` when it disappeared. */
  kind: 'add' | 'change' | 'unlink'
}

/** Watches a fixed set of files. */
export interface FileWatcher {
  /** Starts watching `paths`; `onChange` gets one event per burst of changes to a file. */
  watch (paths: readonly string[], onChange: (c: FileChange) => void): Promise<void>
  /** Stops watching; no events after it resolves. */
  close (): Promise<void>
}
