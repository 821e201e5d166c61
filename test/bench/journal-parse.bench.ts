// Benchmark (not a test): what `node --jitless` (the agent's unit) costs where the agent does
// the most JavaScript per event: reading `journalctl -o json` lines (shared/ndjson-lines.ts)
// into entries (agent/os/journal-entry-parser.ts) while it follows minkms during a verdict.
//
//   npm run bench:journal -- [--entries 200000] [--runs 5]      (no root, no lab)
//
// The same compiled code parses the same synthetic minkms audit lines in child processes with
// and without --jitless, alternating, `runs` times each; prints µs per entry and the ratio.
import { parseArgs } from 'node:util'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { lines } from '../../shared/ndjson-lines.js'
import { parseJournalLine } from '../../agent/os/journal-entry-parser.js'
import { processRunner } from '../../shared/process-runner.js'
import { summarize, type Summary } from './stats.js'

/** One journalctl JSON line as minkms's audit log produces them. */
function journalLine (i: number): string {
  return JSON.stringify({
    __CURSOR: `s=5c0e;i=${i.toString(16)};b=9a1f;m=${i.toString(16)};t=6000;x=77`,
    __REALTIME_TIMESTAMP: String(1_796_104_910_826_000 + i),
    __MONOTONIC_TIMESTAMP: String(1000 + i),
    _BOOT_ID: '9a1f',
    _PID: '123',
    _SYSTEMD_UNIT: 'minkms.service',
    _SYSTEMD_INVOCATION_ID: '6165652d6a1b4c0f9e2d',
    PRIORITY: '6',
    SYSLOG_IDENTIFIER: 'minkms',
    MESSAGE: `audit: POST /v1/kms/aistor-key-manager 200 KEY:ENCRYPT h1:kR3u ${i} 0.3ms`
  }) + '\n'
}

/** In the child: parse `n` lines, print µs per entry. */
async function child (n: number): Promise<void> {
  const text = Array.from({ length: n }, (_, i) => journalLine(i)).join('')
  const chunks: Buffer[] = []
  for (let i = 0; i < text.length; i += 65_536) chunks.push(Buffer.from(text.slice(i, i + 65_536)))
  const start = performance.now()
  let parsed = 0
  for await (const l of lines(Readable.from(chunks))) if (parseJournalLine(l, 'minkms.service') !== undefined) parsed++
  const ms = performance.now() - start
  if (parsed !== n) throw new Error(`parsed ${parsed} of ${n} lines`)
  process.stdout.write(`${(ms * 1000 / n).toFixed(3)}\n`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { entries: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, child: { type: 'boolean', default: false } } })
  const n = Number(values.entries)
  if (values.child) return await child(n)
  const self = fileURLToPath(import.meta.url)
  const samples: { jit: number[], jitless: number[] } = { jit: [], jitless: [] }
  for (let r = 0; r < Number(values.runs); r++) {
    for (const [flags, into] of [[[], samples.jit], [['--jitless', '--no-expose-wasm'], samples.jitless]] as const) {
      // The child runs this file with the same loader as the parent (tsx).
      const out = await processRunner.run(process.execPath, [...process.execArgv, ...flags, self, '--child', '--entries', String(n)], { timeoutMs: 300_000 })
      into.push(Number(out.stdout.trim()))
    }
  }
  const jit = summarize(samples.jit) as Summary
  const jitless = summarize(samples.jitless) as Summary
  const row = (name: string, s: Summary): string => `| ${name.padEnd(22)} | ${String(s.n).padStart(4)} | ${s.p50.toFixed(2).padStart(6)} | ${s.max.toFixed(2).padStart(6)} |`
  process.stdout.write([
    `journalctl JSON line → entry, ${n} entries per run, ${values.runs} runs each (alternating)`,
    '',
    '| node                   | runs | p50 µs | max µs |',
    '|------------------------|-----:|-------:|-------:|',
    row('JIT (node default)', jit),
    row('--jitless (the unit)', jitless),
    '',
    `jitless / JIT (p50): ${(jitless.p50 / jit.p50).toFixed(2)}x; ` +
    `at the jitless p50 one core parses ${Math.round(1e6 / jitless.p50).toLocaleString('en-US')} entries/s`,
    ''
  ].join('\n'))
}

await main()
