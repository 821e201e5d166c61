// Port: the managed files on disk. Writes are atomic (temp + fsync + rename + dir fsync), so a
// reader or a crash sees the old or the new content, never a torn mix.

/** Mode and owner of a file. */
export interface FileMeta { mode: number, uid: number, gid: number }

/**
 * A file as read: content undefined when it does not exist. `invalidUtf8` says the bytes were not
 * UTF-8 (content then holds U+FFFD for them, so it must not be written back as the file).
 */
export interface FileSnapshot { content: string | undefined, meta: FileMeta | undefined, invalidUtf8?: { line: number } }

/** Reads and atomically replaces files. Implementations must be safe for concurrent reads. */
export interface FileStore {
  read (path: string): Promise<FileSnapshot>
  /**
   * Replaces (or creates) `path` atomically. An existing file keeps its mode and owner unless
   * `meta` is given (restoring a backup); a new file gets `meta` or 0600 root.
   */
  write (path: string, content: string, meta?: FileMeta): Promise<void>
  /** Removes `path` (restoring a file that did not exist before an apply). Missing is fine. */
  remove (path: string): Promise<void>
  /**
   * Removes the temporary files that interrupted writes of `paths` left behind (a process killed
   * between creating one and renaming it over its target) and returns their paths. Only under the
   * apply lock: a write in progress has a temporary file too.
   */
  removeLeftovers (paths: readonly string[]): Promise<string[]>
}
