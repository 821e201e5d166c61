/**
 * One thing wrong with an input, precise enough to fix without guessing. Validation collects every
 * problem before failing so a caller sees them all at once.
 */
export interface Problem {
  /** Where: a dotted field path (`files.env.set.MY_KEY`, `hsm.minio.minkms.server[1]`), or '' for the whole input. */
  readonly path: string
  /** What is wrong and what to do about it. Never contains a secret value. */
  readonly message: string
  /** 1-based line in the source text, when known. */
  readonly line?: number
  /** 1-based column in the source text, when known. */
  readonly column?: number
}

/** `path: message (line L)` for each problem, one per line. */
export function formatProblems (problems: readonly Problem[]): string {
  return problems.map(p => {
    const where = p.line === undefined ? '' : ` (line ${p.line}${p.column === undefined ? '' : `, column ${p.column}`})`
    return `${p.path === '' ? '' : `${p.path}: `}${p.message}${where}`
  }).join('\n')
}
