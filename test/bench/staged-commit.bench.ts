// Benchmark (not a test): how much of an apply's wait before the restart a staged change saves.
//
//   npx tsc -p tsconfig.json && node --import tsx test/bench/staged-commit.bench.ts [--rounds 5]   (root; boots a lab: 1 node)
//
// Each round, interleaved so drift of the machine hits both sides alike, a trivial env change
// (one variable set, stableFor 0s) on one node:
//   - apply: POST /v1/apply; measured from just before the request is sent to the verdict's
//     `timings.restartAt` (validation, lock, plan, backup and write all fall inside);
//   - staged: POST /v1/stage (not timed), then POST /v1/stage/commit; measured from just before
//     the commit request to its verdict's `restartAt` (lock, checks, backup and write only).
// Both clocks are the host's (the nodes are containers on it). Prints each side's median and the
// ratio staged/apply, with the load average (the machine is shared). See docs/benchmarks.md.
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { ApplyResult } from '../../shared/schemas/apply.js'
import { startAgentLab, type AgentLab } from '../lab/agent-lab.js'
import type { LabNode } from '../lab/start-lab.js'
import { Teardowns, tearDownOnSignals } from './teardowns.js'

const say = (s: string): void => { process.stderr.write(`# ${s}\n`) }

const envChange = (revision: number): unknown => ({ revision, files: { env: { set: { MINIO_KMS_BENCH_ROUND: String(revision) } } }, verify: { deadline: '30s', stableFor: '0s' } })

/** One timed transaction: request → restartAt, and request → its `backup` step (what comes before the transaction proper). */
interface Timed { restart: number, backup: number }

/** The timings of a transaction that had to restart and succeed, from `sentAt`. */
function timed (what: string, sentAt: number, r: { status: number, lines: unknown[], result: Record<string, unknown> | undefined }): Timed {
  const res = r.result as ApplyResult | undefined
  if (r.status !== 200 || res === undefined || res.result !== 'changed' || res.verdict?.ok !== true) throw new Error(`${what}: HTTP ${r.status}, ${res?.result ?? 'no result'}: ${res?.message ?? ''}`)
  const backup = (r.lines as Array<{ step?: string, status?: string, at?: number }>).find((l) => l.step === 'backup' && l.status === 'started')?.at
  if (backup === undefined) throw new Error(`${what}: no backup event`)
  return { restart: res.verdict.timings.restartAt - sentAt, backup: backup - sentAt }
}

async function applyRound (al: AgentLab, node: LabNode, revision: number): Promise<Timed> {
  const sentAt = Date.now()
  return timed(`apply ${revision}`, sentAt, await al.apply(node, envChange(revision)))
}

async function stagedRound (al: AgentLab, node: LabNode, revision: number): Promise<Timed> {
  const s = await al.call(node, 'POST', '/v1/stage', envChange(revision))
  if (s.status !== 200) throw new Error(`stage ${revision}: HTTP ${s.status}: ${s.text.slice(0, 300)}`)
  const sentAt = Date.now()
  return timed(`commit ${revision}`, sentAt, await al.apply(node, { revision }, '/v1/stage/commit'))
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2 }

async function main (): Promise<number> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } })
  const rounds = Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) { process.stderr.write('usage: staged-commit.bench.ts [--rounds N]\n'); return 2 }
  const host = new Teardowns()
  tearDownOnSignals(host, say)
  let code = 0
  try {
    say('booting the lab (1 node, no external Key Manager)')
    const al = await startAgentLab(host, { nodes: 1, external: 0 })
    const node = al.lab.nodes.find((n) => n.role === 'cluster')
    if (node === undefined) throw new Error('the lab has no cluster node')
    await al.ready()
    let revision = 0
    say('warm-up (not recorded)')
    await applyRound(al, node, ++revision)
    await stagedRound(al, node, ++revision)
    const apply: Timed[] = []
    const staged: Timed[] = []
    const loads: number[] = []
    for (let i = 1; i <= rounds; i++) {
      apply.push(await applyRound(al, node, ++revision))
      staged.push(await stagedRound(al, node, ++revision))
      loads.push(loadavg()[0] ?? NaN)
      say(`round ${i}/${rounds}: apply ${apply.at(-1)?.restart} ms, staged commit ${staged.at(-1)?.restart} ms to restartAt`)
    }
    const line = (xs: Timed[], k: keyof Timed): string => `median ${median(xs.map((x) => x[k]))} ms  [${xs.map((x) => x[k]).join(', ')}]`
    const a = median(apply.map((x) => x.restart))
    const s = median(staged.map((x) => x.restart))
    process.stdout.write([
      `request → restartAt, ${rounds} rounds, one node, trivial env change`,
      `  apply (POST /v1/apply):                 ${line(apply, 'restart')}`,
      `  staged (POST /v1/stage/commit only):    ${line(staged, 'restart')}`,
      `  ratio staged/apply: ${(s / a).toFixed(2)}`,
      'request → backup step (before the transaction proper)',
      `  apply:                                  ${line(apply, 'backup')}`,
      `  staged commit:                          ${line(staged, 'backup')}`,
      `  load average (1 min) during the rounds: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${availableParallelism()} cores`
    ].join('\n') + '\n')
  } catch (e) {
    say(`benchmark failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
    code = 1
  } finally {
    const failures = await host.run()
    for (const m of failures) say(`teardown: ${m}`)
    if (failures.length > 0) code = 1
  }
  return code
}

process.exitCode = await main()
