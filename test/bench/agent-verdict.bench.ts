// Benchmark (not a test): how fast keyroll-agent knows how a minkms restart went, against an
// Ansible-style polling baseline measured in the same run, and the agent's idle memory.
//
//   npm run bench -- [--rounds 10] [--stable-for 0s]        (root; boots a lab: 1 node + 1 external)
//
// Each round, interleaved so drift of the machine hits both sides alike:
//   1. keyroll, good restart: POST /v1/apply {restart: always} → verdict ok
//   2. baseline, good restart: systemctl restart, GET /v1/health/ready every 1 s until 200
//   3. keyroll, bad restart: the HSM change with an unknown auth.key → failed verdict, rolled back
//   4. baseline, bad restart: the same section written by hand, restart, `systemctl is-failed`
//      every 1 s until failed, then the old config put back
// minkms is checked healthy (active, health 200) after every step. One untimed warm-up of each
// kind comes first. Afterwards: VmRSS of the idle agent. See docs/benchmarks.md.
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../../shared/change/duration.js'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { ENCLAVE, HSM_KEY_NAME, startAgentLab, type AgentLab } from '../lab/agent-lab.js'
import { NODE_PATHS } from '../lab/node-files.js'
import type { Lab, LabNode } from '../lab/start-lab.js'
import { baselineFailedRestart, baselineGoodRestart, ready } from './ansible-baseline.js'
import { hsmSection } from '../lab/node-files.js'
import { keyrollFailedRestart, keyrollGoodRestart } from './keyroll-rounds.js'
import { M, report, type RssKb } from './report.js'
import { Samples } from './stats.js'
import { errText } from '../../shared/error-text.js'
import { Teardowns, tearDownOnSignals } from './teardowns.js'

const say = (s: string): void => { process.stderr.write(`# ${s}\n`) }

function options (): { rounds: number, stableFor: string, stableForMs: number } {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, 'stable-for': { type: 'string', default: '0s' } } })
  const rounds = Number(values.rounds)
  if (!/^\d+$/.test(values.rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: expected an integer from 1`)
  const stableForMs = parseDuration(values['stable-for'])
  if (stableForMs === undefined) throw new Error(`--stable-for ${values['stable-for']}: expected a duration such as 0s or 500ms`)
  return { rounds, stableFor: values['stable-for'], stableForMs }
}

/** minkms on `node` is active and answers health 200 (within 30 s); throws otherwise. */
async function healthy (lab: Lab, node: LabNode, after: string): Promise<void> {
  await lab.waitFor(async () => (await lab.systemctl(node, 'is-active', 'minkms')).stdout.trim() === 'active' && await ready(lab, node),
    { timeoutMs: 30_000, intervalMs: 100, what: `minkms on ${node.name} healthy after ${after}` })
}

/** The number of threads of the agent's main process (/proc/PID/status `Threads`). */
async function agentThreads (lab: Lab, node: LabNode): Promise<number> {
  const pid = (await lab.systemctl(node, 'show', '-p', 'MainPID', '--value', 'keyroll-agent')).stdout.trim()
  const status = (await lab.exec(node, ['cat', `/proc/${pid}/status`])).stdout
  return Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? NaN)
}

/** The sample with the largest VmRSS (kB) of the agent's main process, over `n` samples 500 ms apart. */
async function agentRss (lab: Lab, node: LabNode, n = 5): Promise<RssKb> {
  let max: RssKb | undefined
  for (let i = 0; i < n; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 500))
    const pid = (await lab.systemctl(node, 'show', '-p', 'MainPID', '--value', 'keyroll-agent')).stdout.trim()
    if (!/^[1-9]\d*$/.test(pid)) throw new Error(`keyroll-agent has no main process (MainPID ${pid})`)
    const status = (await lab.exec(node, ['cat', `/proc/${pid}/status`])).stdout
    const kb = (field: string): number => {
      const v = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]
      if (v === undefined) throw new Error(`no ${field} in /proc/${pid}/status`)
      return Number(v)
    }
    const sample: RssKb = { vmRss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile') }
    if (max === undefined || sample.vmRss > max.vmRss) max = sample
  }
  if (max === undefined) throw new Error('no RSS sample')
  return max
}

/**
 * The node's journal (minkms, its systemd lines, the agent) since `since`, saved under the OS
 * temp dir for a problem report; the banner's root API key lines are left out.
 */
async function saveJournal (lab: Lab, node: LabNode, since: number, what: string): Promise<string> {
  const r = await lab.exec(node, ['journalctl', '--no-pager', '-o', 'short-precise', '-u', 'minkms', '-u', 'keyroll-agent', '--since', `@${Math.floor(since / 1000) - 1}`], { okCodes: [0, 1] })
  const file = join(tmpdir(), `keyroll-bench-${process.pid}-${what}.log`)
  await writeFile(file, r.stdout.split('\n').filter((l) => !l.includes('API Key')).join('\n'), { mode: 0o600 })
  return file
}

async function bench (al: AgentLab, o: ReturnType<typeof options>): Promise<string[]> {
  const { lab } = al
  const node = lab.node('node1')
  const servers = lab.nodes.filter((n) => n.role === 'external').map((n) => `${n.address}:${n.port}`)
  const samples = new Samples()
  const problems: string[] = []
  let revision = 0
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn()
    } catch (e) {
      problems.push(`${what}: ${errText(e)}`)
      say(`problem: ${what}: ${errText(e)}`)
    }
    await healthy(lab, node, what) // a node that does not come back ends the run
  }

  await al.ready()
  await al.provisionExternal()
  const rssAtStart = await agentRss(lab, node)
  const threadsAtStart = await agentThreads(lab, node)
  const goodConfig = await lab.readFile(node, NODE_PATHS.config)
  const badConfig = (): string => goodConfig + hsmSection(servers, ENCLAVE, HSM_KEY_NAME, generateApiKey('k1').key)

  say('warm-up (not recorded)')
  await step('warm-up keyroll good', async () => { await keyrollGoodRestart(al, node, ++revision, o.stableFor) })
  await step('warm-up keyroll bad', async () => {
    const { timings, rollbackProblem } = await keyrollFailedRestart(al, node, ++revision)
    if (rollbackProblem !== undefined) problems.push(`warm-up keyroll bad: rollback: ${rollbackProblem} (journal: ${await saveJournal(lab, node, timings.restartAt, 'warmup-rollback')})`)
  })
  await step('warm-up baseline good', async () => { await baselineGoodRestart(lab, node) })

  for (let i = 1; i <= o.rounds; i++) {
    say(`round ${i}/${o.rounds}`)
    await step(`round ${i} keyroll good`, async () => {
      const { timings: t, requestMs } = await keyrollGoodRestart(al, node, ++revision, o.stableFor)
      samples.add(M.kGoodRestartVerdict, t.verdictAt - t.restartAt)
      samples.add(M.kGoodReadyVerdict, t.readyLineAt === undefined ? undefined : t.verdictAt - t.readyLineAt - o.stableForMs)
      samples.add(M.kGoodRestartReady, t.readyLineAt === undefined ? undefined : t.readyLineAt - t.restartAt)
      samples.add(M.kGoodRequest, requestMs)
      if (t.readyLineAt === undefined) problems.push(`round ${i} keyroll good: verdict ok without readyLineAt`)
    })
    await step(`round ${i} baseline good`, async () => {
      const b = await baselineGoodRestart(lab, node)
      samples.add(M.bGoodRestartKnown, b.knownAt - b.restartAt)
      samples.add(M.bGoodRestartReady, b.lineAt === undefined ? undefined : b.lineAt - b.restartAt)
    })
    await step(`round ${i} keyroll bad`, async () => {
      const { timings: t, requestMs, rollbackProblem } = await keyrollFailedRestart(al, node, ++revision)
      if (rollbackProblem !== undefined) {
        const file = await saveJournal(lab, node, t.restartAt, `round${i}-rollback`)
        problems.push(`round ${i} keyroll bad: the failed verdict is measured, but the rollback: ${rollbackProblem} (journal: ${file})`)
      }
      samples.add(M.kBadFatalVerdict, t.fatalLineAt === undefined ? undefined : t.verdictAt - t.fatalLineAt)
      samples.add(M.kBadRestartVerdict, t.verdictAt - t.restartAt)
      samples.add(M.kBadRestartFatal, t.fatalLineAt === undefined ? undefined : t.fatalLineAt - t.restartAt)
      samples.add(M.kBadRequest, requestMs)
      if (t.fatalLineAt === undefined) problems.push(`round ${i} keyroll bad: failed verdict without fatalLineAt`)
    })
    await step(`round ${i} baseline bad`, async () => {
      const b = await baselineFailedRestart(lab, node, goodConfig, badConfig())
      samples.add(M.bBadRestartKnown, b.knownAt - b.restartAt)
      samples.add(M.bBadFatalKnown, b.lineAt === undefined ? undefined : b.knownAt - b.lineAt)
      samples.add(M.bBadRestartFatal, b.lineAt === undefined ? undefined : b.lineAt - b.restartAt)
      if (b.lineAt === undefined) problems.push(`round ${i} baseline bad: no FATAL line in the journal`)
    })
  }
  if (await lab.readFile(node, NODE_PATHS.config) !== goodConfig) problems.push('the config is not the original one after the rounds')

  // Idle means idle: the agent plans in a worker thread that it keeps warm for 30 s after the
  // last plan (agent/apply/worker-planner.ts) and then stops. Wait (polling, with a deadline) until
  // the process is back to the threads it had at start, so the figure is the agent at rest and not
  // the agent within 30 s of its last apply.
  say('waiting for the plan worker to stop')
  const waitStart = Date.now()
  try {
    await lab.waitFor(async () => await agentThreads(lab, node) <= threadsAtStart, { timeoutMs: 60_000, intervalMs: 1000, what: 'the agent back to its threads at start' })
    say(`plan worker stopped ${((Date.now() - waitStart) / 1000).toFixed(1)} s after the last round`)
  } catch {
    problems.push(`the agent did not return to ${threadsAtStart} threads within 60 s (the plan worker still running?)`)
  }
  say('idle RSS')
  const status = await al.call(node, 'GET', '/v1/status')
  if (status.status !== 200) problems.push(`/v1/status before the RSS samples: HTTP ${status.status}`)
  const rssIdle = await agentRss(lab, node)
  return report({ samples, rounds: o.rounds, stableForMs: o.stableForMs, rss: { idle: rssIdle, atStart: rssAtStart }, problems })
}

async function main (): Promise<number> {
  let o: ReturnType<typeof options>
  try {
    o = options()
  } catch (e) {
    process.stderr.write(`${errText(e)}\nusage: npm run bench -- [--rounds N] [--stable-for 0s]\n`)
    return 2
  }
  const host = new Teardowns()
  // Registered before the lab exists. The lab's own emergency stop (emergency-stop.ts) kills the
  // nodes at once on a signal and raises it again; this handler then removes the rest and exits.
  tearDownOnSignals(host, say)

  let code = 0
  try {
    const started = Date.now()
    say(`booting the lab (1 node + 1 external Key Manager), ${o.rounds} rounds`)
    const al = await startAgentLab(host, { nodes: 1, external: 1 })
    say(`lab ${al.lab.id} up`)
    const lines = await bench(al, o)
    process.stdout.write(lines.join('\n') + '\n')
    say(`lab ${al.lab.id}; ${Math.round((Date.now() - started) / 1000)} s`)
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
