// The shape of one command's server-side implementation.
import type { Frame } from '../../../shared/minkms/frames.js'
import type { CommandContext } from './node.js'

/**
 * Runs one request frame's payload and returns the response frame (read commands) or undefined
 * (write commands, whose 200 body is empty). Throws KmsHttpError for a non-200 answer.
 */
export type CommandHandler = (ctx: CommandContext, payload: Uint8Array) => Promise<Frame | undefined>
