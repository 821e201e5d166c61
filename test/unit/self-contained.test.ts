// The repository explains itself: no file sends its reader to documents outside it (a team's
// style guide by rule number, reference notes, a design file one directory up). Readers of this
// repository do not have those; the reason belongs in the comment or in docs/.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { repoRoot } from '../lab/repo.js'

const root = repoRoot()
const SKIP = new Set(['node_modules', 'dist', '.git', '.tap', 'coverage'])
const TEXT = /\.(ts|mjs|js|md|yaml|yml|json|service|sh)$/

// Built from parts so this file does not match itself.
const OUTSIDE = [
  new RegExp('STYLE' + ' R[0-9]'),
  new RegExp('reference' + '/[a-z-]+\\.md'),
  new RegExp('DESIGN' + '\\.md'),
  new RegExp('\\.\\./shared' + '/[A-Z]')
]

function * files (dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) yield * files(p)
    else if (TEXT.test(e.name) && e.name !== 'package-lock.json') yield p
  }
}

t.test('no file points outside the repository', async t => {
  const hits: string[] = []
  let checked = 0
  for (const f of files(root)) {
    checked++
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (OUTSIDE.some((re) => re.test(line))) hits.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`)
    })
  }
  t.ok(checked > 100, `${checked} files checked`)
  t.same(hits, [], 'every reason is said in the repository itself')
})
