// The journal lines of minkms that keyroll reads as evidence, in one place: the agent's verifier
// matches them while it watches a restart, and the coordinator matches the same patterns when it
// reads the journal itself, so the two readings can only disagree about the facts, never about
// what a line means.

/** The line minkms prints when it is ready to serve (`=> Server is up and running...`). */
export const MINKMS_READY = /Server is up and running/

/** A line minkms prints when it gives up: a `FATAL` level line, or a Go-style `panic:`. */
export const MINKMS_FATAL = /^\S+ \S+ FATAL |^panic: |\bFATAL\b/
