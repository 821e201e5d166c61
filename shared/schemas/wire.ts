// Ports and the core write `field: T | undefined`; JSON (and the response serialiser) drops such
// keys, so on the wire they are optional. Wire<T> says that in types, which lets routes hand a
// core value to a response schema with the compiler checking every other field against the
// schema's Static type. No TS type is written twice and no `as` hides a mismatch.

/** T as it reads after JSON serialisation: keys whose type includes undefined become optional. */
export type Wire<T> = T extends ReadonlyArray<infer U>
  ? Array<Wire<U>>
  : T extends object
    ? Flat<{ [K in keyof T as undefined extends T[K] ? never : K]: Wire<T[K]> } & { [K in keyof T as undefined extends T[K] ? K : never]?: Wire<Exclude<T[K], undefined>> }>
    : T

type Flat<T> = { [K in keyof T]: T[K] }

/** `v` typed as its wire form. Identity at run time: the serialiser skips undefined values. */
export function wire<T> (v: T): Wire<T> {
  return v as unknown as Wire<T>
}
