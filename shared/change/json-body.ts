// Reading a JSON change body (HTTP `application/json`, `keyroll-agent --spec x.json`) strictly:
// nesting deeper than the limit is refused before JSON.parse recurses into it, a key that appears
// twice in one object is refused (JSON.parse would keep the last one silently, while YAML specs
// and the CLI refuse duplicates), and `__proto__`, `constructor` and `prototype` keys are refused
// anywhere. Both scans are linear in the text.
import { isReservedKey } from '../edit/dotted-path.js'
import { lineColumnAt } from '../edit/text-lines.js'
import { ChangeSpecSyntaxError, ChangeTooDeepError } from './errors.js'
import { CHANGE_LIMITS } from './limits.js'

/** Parses a JSON text; throws ChangeTooDeepError or ChangeSpecSyntaxError (with line and column). */
export function parseJsonStrict (text: string, maxDepth: number = CHANGE_LIMITS.maxDepth): unknown {
  if (nestingDepth(text) > maxDepth) throw new ChangeTooDeepError(maxDepth)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // JSON.parse's message quotes the input around the error; only its position is kept.
    const offset = /position (\d+)/.exec((err as Error).message)?.[1]
    throw new ChangeSpecSyntaxError('not valid JSON (check quotes, commas and brackets)', offset === undefined ? {} : lineColumnAt(text, Number(offset)))
  }
  checkKeys(text)
  return value
}

/** Deepest bracket nesting outside strings (a valid or invalid JSON text). */
function nestingDepth (text: string): number {
  let depth = 0
  let max = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) i = stringEnd(text, i)
    else if (c === 0x7b || c === 0x5b) { if (++depth > max) max = depth } else if (c === 0x7d || c === 0x5d) depth--
  }
  return max
}

/** Index of the closing quote of the string starting at `start` (or the text's end). */
function stringEnd (text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x22) return i
  }
  return text.length
}

interface Frame { keys: Set<string> | undefined, expectKey: boolean }

// Runs on a text JSON.parse accepted, so every string in key position is a key.
function checkKeys (text: string): void {
  const stack: Frame[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    const top = stack[stack.length - 1]
    if (c === '"') {
      const end = stringEnd(text, i)
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (top.keys.has(key)) throw new ChangeSpecSyntaxError('a key appears twice in the same object', lineColumnAt(text, i))
        if (isReservedKey(key)) throw new ChangeSpecSyntaxError(`the key ${JSON.stringify(key)} is not allowed (__proto__, constructor and prototype are refused)`, lineColumnAt(text, i))
        top.keys.add(key)
        top.expectKey = false
      }
      i = end
    } else if (c === '{') stack.push({ keys: new Set(), expectKey: true })
    else if (c === '[') stack.push({ keys: undefined, expectKey: false })
    else if (c === '}' || c === ']') stack.pop()
    else if (c === ',' && top?.keys !== undefined) top.expectKey = true
  }
}
