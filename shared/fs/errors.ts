// Error catalogue of the file-system helpers (stable SHR_ codes with their HTTP status; the base
// is shared/errors.ts CodedError).
import { CodedError, type Catalogue } from '../errors.js'

/** Every code an FsError can carry, with what it means. */
export const FS_ERROR_CODES = {
  SHR_FS_WRITE_FAILED: { status: 500, meaning: 'an atomic write failed; the target is unchanged unless step is fsync-dir' },
  SHR_FS_NOT_A_FILE: { status: 409, meaning: 'the write target exists but is not a regular file' }
} as const satisfies Catalogue

/** A stable error code of the file-system helpers. */
export type FsErrorCode = keyof typeof FS_ERROR_CODES

/** The step of an atomic write that failed. */
export type AtomicWriteStep = 'stat' | 'open' | 'chmod' | 'chown' | 'write' | 'fsync' | 'close' | 'rename' | 'fsync-dir'

/** Base class of the file-system helpers' errors. */
export class FsError extends CodedError<FsErrorCode> {
  /** The file concerned. */
  readonly path: string

  constructor (code: FsErrorCode, message: string, path: string, opts?: { cause?: unknown }) {
    super(code, FS_ERROR_CODES[code].status, message, opts)
    this.path = path
  }
}

/**
 * An atomic write failed at `step`; `cause` is the system error. Before `rename` the target is
 * untouched and the temporary file is gone; at `fsync-dir` the new content is in place but its
 * directory entry may not survive a power loss.
 */
export class AtomicWriteError extends FsError {
  /** Where it failed. */
  readonly step: AtomicWriteStep
  constructor (path: string, step: AtomicWriteStep, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super('SHR_FS_WRITE_FAILED', `writing ${path} failed at ${step}: ${reason}`, path, { cause })
    this.step = step
  }
}

/** The target is a directory, socket or device: refusing to replace it. */
export class NotAFileError extends FsError {
  constructor (path: string) {
    super('SHR_FS_NOT_A_FILE', `${path} exists and is not a regular file; refusing to replace it`, path)
  }
}
