// Lab tier: keyroll-agent SIGKILLed in every phase of an apply under real systemd (lock, plan,
// backup, write, restart, verify, commit), each kill followed by the unit's own recovery
// (Restart=on-failure, ExecStartPre recover, the daemon's start). After each: the files are the
// old or the new revision as the agent says, no temporary file is left, minkms serves, and the
// time from the kill to an agent that is ready with no apply in progress is reported per phase.
// Kills are aimed from inside the node (crash-killer.ts): at the file the phase creates, or, for
// the plan step that creates none, after a delay drawn from the phase's measured duration.
import t from 'tap'
import { randomInt } from 'node:crypto'
import { startAgentLab, minkmsReady, AGENT_UNIT, type AgentLab } from './agent-lab.js'
import { NODE_PATHS } from './node-files.js'
import { labSkip } from './start-lab.js'

const STATE = '/var/lib/keyroll-agent'
const RUN = '/run/keyroll-crash'
const UNIT_CGROUP = `/sys/fs/cgroup/system.slice/${AGENT_UNIT}`
const KILLER = '/opt/keyroll/dist/test/lab/crash-killer.js'
const N = 'node1'

type Phase = 'lock' | 'plan' | 'backup' | 'write' | 'restart' | 'verify' | 'commit'
interface Aim { dir: string, match: string, nth: number, delayMs: number }

/** Where each phase is caught; `i` picks one of the two aims where a phase has two (AIMS). */
function aim (phase: Phase, i: number, planMs: number): Aim {
  switch (phase) {
    case 'lock': return { dir: STATE, match: '^apply\\.lock$', nth: 1, delayMs: 0 }
    case 'plan': return { dir: STATE, match: '^apply\\.lock$', nth: 1, delayMs: 1 + randomInt(Math.max(2, planMs)) }
    case 'backup': return i % 2 === 0
      ? { dir: `${STATE}/backups`, match: '^\\d+$', nth: 1, delayMs: 0 }
      : { dir: STATE, match: '^\\.pending\\.json\\..*\\.tmp$', nth: 1, delayMs: 0 }
    case 'write': return i % 2 === 0
      ? { dir: '/etc/minkms', match: '^\\.config\\.yaml\\..*\\.tmp$', nth: 1, delayMs: 0 }
      : { dir: '/etc/default', match: '^\\.minkms\\..*\\.tmp$', nth: 1, delayMs: 0 }
    // The second write-ahead record is phase `restarting`, written just before `systemctl restart`.
    case 'restart': return { dir: STATE, match: '^\\.pending\\.json\\..*\\.tmp$', nth: 2, delayMs: randomInt(300) }
    // Verify creates no file (and its NDJSON events come only once the verdict is in): the test
    // drops one as soon as minkms runs a new invocation, i.e. while the agent verifies it.
    case 'verify': return { dir: RUN, match: '^verify$', nth: 1, delayMs: randomInt(1500) }
    case 'commit': return i % 2 === 0
      ? { dir: `${STATE}/changes`, match: '^\\..*\\.sealed\\..*\\.tmp$', nth: 1, delayMs: 0 }
      : { dir: STATE, match: '^\\.applied\\.json\\..*\\.tmp$', nth: 1, delayMs: 0 }
  }
}

const PHASES: Phase[] = ['lock', 'plan', 'backup', 'write', 'restart', 'verify', 'commit']
/** How many aims `aim()` has for each phase. */
const AIMS: Record<Phase, number> = { lock: 1, plan: 1, backup: 2, write: 2, restart: 1, verify: 1, commit: 2 }
// One round kills once at every aim of every phase: 10 kills, each of the two aims of backup,
// write and commit included. The kill method alternates along the round (main process, whole
// unit, ...), so both methods are used, and a phase with two aims gets both; each further round
// swaps the method of every kill, so 2 rounds kill every aim both ways. npm test runs 1 (each
// kill with its recovery takes 5-9 s of the lab tier); KEYROLL_LAB_CRASH_ROUNDS=2 or more for more.
const ROUNDS = Number(process.env.KEYROLL_LAB_CRASH_ROUNDS ?? 1)
type How = 'main' | 'unit'
/** The kills of `rounds` rounds, in order: phase, aim index, kill method. */
function killPlan (rounds: number): Array<{ round: number, phase: Phase, i: number, how: How }> {
  const plan: Array<{ round: number, phase: Phase, i: number, how: How }> = []
  for (let round = 0; round < rounds; round++) {
    let k = 0
    for (const phase of PHASES) {
      for (let i = 0; i < AIMS[phase]; i++) plan.push({ round, phase, i, how: (k++ + round) % 2 === 0 ? 'main' : 'unit' })
    }
  }
  return plan
}

/** The next change: toggles the external HSM section and bumps a marker in the env file, so both files change. */
function nextChange (al: AgentLab, revision: number, apiKey: string, hasHsm: boolean): unknown {
  const base = al.hsmChange(revision, apiKey) as { files: { config: unknown } }
  return {
    revision,
    files: {
      config: hasHsm ? { delete: ['hsm'] } : base.files.config,
      env: { set: { KEYROLL_CRASH_REVISION: String(revision) } }
    },
    verify: { deadline: '30s', stableFor: '2s' }
  }
}

t.test('the kill plan: one round hits every aim of every phase, and each phase with two aims both ways', async (t) => {
  const one = killPlan(1)
  t.same(one.map((k) => `${k.phase}/${k.i}`), PHASES.flatMap((p) => Array.from({ length: AIMS[p] }, (_, i) => `${p}/${i}`)), 'every aim once')
  t.same(new Set(one.map((k) => k.how)), new Set(['main', 'unit']), 'both kill methods')
  for (const p of PHASES.filter((p) => AIMS[p] === 2)) t.same(new Set(one.filter((k) => k.phase === p).map((k) => k.how)), new Set(['main', 'unit']), `${p}: its two aims killed two ways`)
  const two = killPlan(2)
  t.ok(one.every((k) => two.some((l) => l.round === 1 && l.phase === k.phase && l.i === k.i && l.how !== k.how)), 'a second round kills every aim the other way')
})

t.test('SIGKILL in every apply phase, then recovery by the unit', { skip: labSkip }, async (t) => {
  const al = await startAgentLab(t, { nodes: 1, external: 1 })
  const { lab } = al
  await al.ready()
  const { apiKey } = await al.provisionExternal()
  const sh = async (cmd: string): Promise<string> => (await lab.exec(N, ['sh', '-c', cmd], { okCodes: [0, 1] })).stdout
  const mainPid = async (): Promise<number> => Number((await lab.systemctl(N, 'show', '-p', 'MainPID', '--value', AGENT_UNIT)).stdout.trim())
  const status = async (): Promise<{ appliedRevision: number, applying: boolean }> => (await al.call(N, 'GET', '/v1/status')).json as { appliedRevision: number, applying: boolean }
  const hasHsm = async (): Promise<boolean> => /aistor-key-manager-hsm/.test(await lab.readFile(N, NODE_PATHS.config))
  const temps = async (): Promise<string[]> => (await sh(`find /etc/minkms ${STATE} -name '*.tmp'; find /etc/default -name '.minkms.*.tmp'`)).split('\n').filter(Boolean)
  await sh(`mkdir -p ${RUN}`)

  // Calibration: one apply to the end gives the duration of the plan step (lock → backup).
  let revision = 1
  const cal = await al.apply(N, nextChange(al, revision, apiKey, await hasHsm()))
  t.equal(cal.result?.result, 'changed', 'calibration apply')
  const at = (step: string, status: string): number => (cal.lines as Array<{ step?: string, status?: string, at?: number }>).find((l) => l.step === step && l.status === status)?.at ?? 0
  const planMs = Math.max(1, at('backup', 'started') - at('lock', 'done'))
  t.comment(`measured: lock → backup ${planMs} ms, backup → write done ${at('write', 'done') - at('backup', 'started')} ms, restart → verify done ${at('verify', 'done') - at('restart', 'started')} ms`)

  const report: string[] = []
  let leftBehind = 0
  const plan = killPlan(ROUNDS)
  for (const { round, phase, i, how } of plan) {
    revision++
    const before = { config: await lab.readFile(N, NODE_PATHS.config), env: await lab.readFile(N, NODE_PATHS.envFile), applied: (await status()).appliedRevision }
    const pid = await mainPid()
    const a = aim(phase, i, planMs)
    const armed = `${RUN}/armed-${revision}`
    await sh(`rm -f ${RUN}/verify`)
    // env -i: the test runner's NODE_OPTIONS (its loaders) mean nothing inside the node.
    const killer = lab.exec(N, ['env', '-i', 'PATH=/usr/bin:/bin', 'node', KILLER, JSON.stringify({ ...a, pid, how, armed, cgroup: UNIT_CGROUP, timeoutMs: 60_000 })])
    await lab.waitFor(async () => (await sh(`test -e ${armed} && echo yes`)).trim() === 'yes', { timeoutMs: 20_000, intervalMs: 50, what: 'the killer armed' })
    const change = nextChange(al, revision, apiKey, await hasHsm())
    const invocation = await al.invocation(N)
    const newRun = async (): Promise<void> => {
      await lab.waitFor(async () => { const now = await al.invocation(N); return now !== invocation && now !== '' }, { timeoutMs: 30_000, intervalMs: 50, what: 'minkms restarted' })
      await sh(`touch ${RUN}/verify`)
    }
    const stream = al.applyStream(N, change, (line) => {
      const l = line as { step?: string, status?: string }
      if (phase === 'verify' && l.step === 'restart' && l.status === 'started') newRun().catch(() => {})
    }).catch(() => ({ broken: true })) // killed before the response began: no stream at all
    const k = JSON.parse((await killer).stdout.trim().split('\n').at(-1) ?? '{}') as { killedAt?: number, file?: string, timeout?: boolean }
    const s = await stream
    const label = `${phase} #${round + 1} (SIGKILL ${how === 'main' ? 'to the main process' : 'to the whole unit, cgroup.kill'}, at ${k.file ?? '?'}${a.delayMs > 0 ? ` +${a.delayMs} ms` : ''})`
    if (k.killedAt === undefined) { t.fail(`${label}: the apply never reached the kill point`); continue }
    t.ok(s.broken, `${label}: the apply stream broke`)
    const left = await temps()
    leftBehind += left.length

    // Recovery: kill → a new agent that answers ready with no apply in progress.
    let recoveredAt = 0
    let daemonAt = 0
    try {
      await lab.waitFor(async () => {
        const p = await mainPid()
        if (p === 0 || p === pid) return false
        if (daemonAt === 0) daemonAt = Date.now()
        const ready = await al.call(N, 'GET', '/health/ready').then((r) => r.status === 200, () => false)
        if (!ready || (await status()).applying) return false
        recoveredAt = Date.now()
        return true
      }, { timeoutMs: 90_000, intervalMs: 100, what: `${label}: the agent recovered` })
    } catch (err) {
      t.fail((err as Error).message)
      break
    }
    const ms = recoveredAt - k.killedAt
    const now = await status()
    const config = await lab.readFile(N, NODE_PATHS.config)
    const env = await lab.readFile(N, NODE_PATHS.envFile)
    if (now.appliedRevision === revision) {
      t.match(env, new RegExp(`^KEYROLL_CRASH_REVISION=${revision}$`, 'm'), `${label}: committed, env on the new revision`)
      t.equal(/aistor-key-manager-hsm/.test(config), !/aistor-key-manager-hsm/.test(before.config), `${label}: committed, config on the new revision`)
    } else {
      t.equal(now.appliedRevision, before.applied, `${label}: still on revision ${before.applied}`)
      t.equal(config, before.config, `${label}: config byte-identical to the old revision`)
      t.equal(env, before.env, `${label}: env byte-identical to the old revision`)
    }
    t.same(await temps(), [], `${label}: no temporary file left`)
    await lab.waitFor(async () => await minkmsReady(lab, lab.node(N)), { timeoutMs: 30_000, what: 'minkms ready' })
    report.push(`${phase.padEnd(7)} ${String(ms).padStart(6)} ms  ${ms < 10_000 ? '' : '(over 10 s) '}(daemon started after ${daemonAt - k.killedAt} ms) on revision ${now.appliedRevision}; temp files left by the kill: ${left.length === 0 ? 'none' : left.map((p) => p.replace(/keyroll-[0-9a-f]{16}/, 'keyroll-…')).join(', ')}  [${label}]`)
  }
  t.comment(`recovery, kill → agent ready with no apply in progress (target < 10 s; RestartSec=2s, then ExecStartPre, then the daemon, which restarts and verifies minkms first when the kill came after the write):\n${report.join('\n')}`)
  const journal = await lab.journal(N, AGENT_UNIT)
  t.notMatch(journal, /State 'stop-sigterm' timed out/, 'systemd never waited out TimeoutStopSec after a kill')
  if (leftBehind > 0) t.match(journal, /temporary files? left by an interrupted write/, 'recovery said which temporary files it removed')
  t.equal(report.length, plan.length, `${report.length} of ${plan.length} kills recovered (${ROUNDS} round${ROUNDS === 1 ? '' : 's'})`)

  // Secret grep: every file in the managed directories and the state directory, except the managed files.
  const files = (await sh(`find /etc/minkms /etc/default ${STATE} -type f`)).split('\n').filter((f) => f !== '' && f !== NODE_PATHS.config && f !== NODE_PATHS.envFile)
  t.ok(files.some((f) => f.startsWith(`${STATE}/backups/`)), 'the search covers the backups')
  const secrets = { 'admin API key': apiKey, 'cluster HSM key': lab.hsmKey('cluster'), 'cluster root API key': lab.rootKey('cluster') }
  const hits: string[] = []
  for (const f of files) {
    const text = (await lab.exec(N, ['cat', f])).stdout
    for (const [what, value] of Object.entries(secrets)) {
      if (text.includes(value) || text.includes(value.slice(-20))) hits.push(`${what} in ${f}`)
    }
  }
  t.same(hits, [], `no API key or HSM key in any of ${files.length} files outside the managed files`)
  t.notOk(Object.values(secrets).some((v) => journal.includes(v.slice(-20))), 'nor in the agent journal')
})
