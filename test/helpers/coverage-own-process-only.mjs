// Loaded into every tap test process (package.json "tap" → "node-arg"), after tap's
// @tapjs/processinfo import has started this process's own coverage recording.
//
// Why: processinfo also records coverage in every Node process a test starts. It puts itself into
// the child's NODE_OPTIONS and copies its _TAPJS_PROCESSINFO_* variables into the child's
// environment whatever env the test passes (an env without them, or with NODE_V8_COVERAGE removed,
// changes nothing). Those children run our sources in another compiled form: `node --import tsx
// main.ts` (the emulator in test/unit/lab/emulator/main.test.ts, the crash child) compiles
// shared/minkms/*.ts with esbuild under the same file URL that tap's ts-node compiles in the test
// processes. c8 then adds up V8 byte ranges of two different scripts under one URL and keeps one
// source map per URL, the one of the raw file it reads last; those files are named by random
// UUIDs, so the report changed from run to run: a whole file at 40-50 % (ts-node's map over
// esbuild's ranges) or as one covered line (esbuild's map won), although its tests passed.
//
// With the variable off here (this process has already registered), every descendant of a test
// process skips recording: coverage is what the test processes themselves ran, one script per file.
//
// And the children do not load processinfo at all: its import registers module hooks that run on
// a separate thread (Node 20's module.register), so every ES module a child imports crosses
// threads, which doubled the CPU time of a child that imports many (the crash test's 42 agents),
// for a process tree nothing reads. processinfo adds its
// import to a child's NODE_OPTIONS in a process-on-spawn listener; ours runs after it (listeners
// run in the order they were added, and processinfo added its own before this file loaded) and
// takes that one entry out again. The _TAPJS_PROCESSINFO_* variables stay (coverage off above).
import processOnSpawn from 'process-on-spawn'
import { argvToNodeOptions, nodeOptionsToArgv } from 'node-options-to-argv'

process.env._TAPJS_PROCESSINFO_COVERAGE_ = '0'

const PROCESSINFO = /[\\/]@tapjs[\\/]processinfo[\\/]|^@tapjs\/processinfo\//

/** NODE_OPTIONS without processinfo's `--import`/`--loader` entry (other entries untouched). */
export function withoutProcessinfo (nodeOptions) {
  const argv = nodeOptionsToArgv(nodeOptions)
  const kept = []
  let removed = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const m = /^(--import|--loader|--experimental-loader)(?:=(.*))?$/.exec(a)
    if (m === null) { kept.push(a); continue }
    const value = m[2] ?? argv[i + 1] ?? ''
    const ours = PROCESSINFO.test(decodeURIComponent(value))
    if (m[2] === undefined) i++
    if (ours) removed = true
    else kept.push(...(m[2] === undefined ? [a, value] : [a]))
  }
  return removed ? argvToNodeOptions(kept) : nodeOptions
}

processOnSpawn.addListener((child) => {
  const opts = child.env.NODE_OPTIONS
  if (typeof opts !== 'string' || opts === '') return
  const next = withoutProcessinfo(opts)
  if (next === opts) return
  const env = { ...child.env }
  if (next === '') delete env.NODE_OPTIONS
  else env.NODE_OPTIONS = next
  child.env = env
})
