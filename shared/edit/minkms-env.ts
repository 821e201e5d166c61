// What /etc/default/minkms must look like after an edit. Problems block the write; warnings
// (lines systemd silently ignores) are reported but do not, because they may predate keyroll and
// this change cannot make them worse.
import { effectiveAssignment, parseEnvFile } from './env-parse.js'
import type { Problem } from './problem.js'
import { lineAt } from './text-lines.js'

/** The soft-HSM key variable (minkms.md §1.4). */
export const HSM_KEY_VARIABLE = 'MINIO_KMS_HSM_KEY'

/** Problems (blocking) and warnings (not blocking) of an env file. */
export interface EnvCheck {
  readonly problems: readonly Problem[]
  readonly warnings: readonly Problem[]
}

const IGNORED_REASON = {
  'no-equals': 'has no "=" and is ignored by systemd',
  'invalid-name': 'is ignored by systemd: the name must match [A-Za-z_][A-Za-z0-9_]*',
  'export-prefix': 'is ignored by systemd: EnvironmentFile lines take no "export"; write KEY=value',
  'byte-order-mark': 'is ignored by systemd: the file starts with a UTF-8 byte order mark, which systemd reads as part of the first name; save the file without it'
} as const

/** Checks an EnvironmentFile for minkms: systemd must read it fully and `MINIO_KMS_HSM_KEY`, if set, must be an HSM key. */
export function checkMinkmsEnvFile (text: string): EnvCheck {
  const problems: Problem[] = []
  const nul = text.indexOf('\0')
  if (nul !== -1) problems.push({ path: '', message: 'contains a NUL byte; systemd stops reading the file there', line: lineAt(text, nul) })
  const file = parseEnvFile(text)
  if (file.openAtEnd !== undefined) {
    problems.push({ path: '', message: 'ends inside a quoted value or after a trailing backslash', line: file.openAtEnd.line })
  }
  const hsm = effectiveAssignment(file, HSM_KEY_VARIABLE)
  if (hsm !== undefined) {
    const problem = hsmKeyProblem(hsm.value)
    if (problem !== undefined) problems.push({ path: HSM_KEY_VARIABLE, message: problem, line: hsm.line })
  }
  const warnings = file.ignored.map(i => ({
    path: i.key ?? '',
    message: `line ${i.line} ${IGNORED_REASON[i.reason]}`,
    line: i.line
  }))
  // A commented-out `#MINIO_KMS_HSM_KEY=hsm:aes256:…` is a comment: an unset leaves it, as it leaves
  // every comment, but the key is still in the file. Said, so it is removed by hand when due.
  for (const c of commentsHoldingHsmKeys(text)) {
    warnings.push({ path: HSM_KEY_VARIABLE, message: `line ${c} is a comment that holds an HSM key (hsm:…); keyroll leaves comments as they are: remove that line by hand once no node needs the key`, line: c })
  }
  return { problems, warnings }
}

// Lines of comments (`#` or `;` first) holding an HSM key lookalike.
function commentsHoldingHsmKeys (text: string): number[] {
  const out: number[] = []
  text.split(/\r?\n|\r/).forEach((l, i) => {
    if (/^[ \t]*[#;]/.test(l) && /hsm:[A-Za-z0-9]+:[A-Za-z0-9+/=_-]{20,}/.test(l)) out.push(i + 1)
  })
  return out
}

/** Why `value` is not an `hsm:aes256:<base64 of 32 bytes>` key, or undefined when it is one. Never shows the value. */
export function hsmKeyProblem (value: string): string | undefined {
  if (!value.startsWith('hsm:aes256:')) return 'must start with "hsm:aes256:" (the output of `minkms --soft-hsm`)'
  const b64 = value.slice('hsm:aes256:'.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) && !/^[A-Za-z0-9_-]+$/.test(b64)) return 'the part after "hsm:aes256:" must be base64'
  const bytes = Buffer.from(b64, /[_-]/.test(b64) ? 'base64url' : 'base64')
  if (bytes.length !== 32) return `the part after "hsm:aes256:" must encode 32 bytes, got ${bytes.length}`
  return undefined
}
