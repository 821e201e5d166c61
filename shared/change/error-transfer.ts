// Errors thrown while planning in a worker thread, carried back to the thread that asked. Structured
// clone keeps an Error's message but not its class or its own fields (code, statusCode, problems,
// line, …), and the caller must see exactly what a plan in its own thread would have thrown: the
// same class (instanceof works), code, status, message and fields, so a refusal renders the same
// 4xx. The coded errors of the change model and the editors are rebuilt from their prototypes;
// anything else (a bug) comes back as a plain Error with its name, message and stack, and renders
// as the 500 it would have been anyway. Coded messages never quote values (see the catalogues).
import * as editErrors from '../edit/errors.js'
import { CodedError } from '../errors.js'
import * as changeErrors from './errors.js'

/** An error between threads: its class name, message, stack and own fields. */
export interface ErrorTransfer {
  readonly name: string
  readonly message: string
  readonly stack?: string
  /** True when `name` is a class this module can rebuild. */
  readonly coded: boolean
  /** Own enumerable fields (code, statusCode, problems, line, column, path, …); plain data. */
  readonly fields: Readonly<Record<string, unknown>>
}

type ErrorClass = abstract new (...args: never[]) => Error

/** The classes a plan can throw, by name (each catalogue's exports that are CodedErrors). */
const CLASSES: ReadonlyMap<string, ErrorClass> = new Map(
  ([...Object.values(editErrors), ...Object.values(changeErrors)] as unknown[])
    .filter((x): x is ErrorClass => typeof x === 'function' && x.prototype instanceof CodedError)
    .map(c => [c.name, c])
)

/** The transfer form of `err`. */
export function encodeError (err: unknown): ErrorTransfer {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), coded: false, fields: {} }
  const coded = err instanceof CodedError && CLASSES.get(err.constructor.name) === err.constructor
  return {
    name: coded ? err.constructor.name : err.name,
    message: err.message,
    ...(err.stack === undefined ? {} : { stack: err.stack }),
    coded,
    fields: coded ? { ...err } : {}
  }
}

/** The error `t` was made from: the same class, message and fields when it was a coded error. */
export function decodeError (t: ErrorTransfer): Error {
  const cls = t.coded ? CLASSES.get(t.name) : undefined
  const err = cls === undefined ? new Error(t.message) : Object.create(cls.prototype as object) as Error
  // Like Error's own: not enumerable, so a copy or a log line shows what the original did.
  Object.defineProperty(err, 'message', { value: t.message, writable: true, configurable: true, enumerable: false })
  if (t.stack !== undefined) Object.defineProperty(err, 'stack', { value: t.stack, writable: true, configurable: true, enumerable: false })
  if (cls === undefined && t.name !== 'Error') Object.defineProperty(err, 'name', { value: t.name, writable: true, configurable: true, enumerable: false })
  Object.assign(err, t.fields)
  return err
}
