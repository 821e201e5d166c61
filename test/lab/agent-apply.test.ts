// Lab tier, issue 3 acceptance: the real keyroll-agent under real systemd applies the HSM change
// to real minkms nodes, proves each restart from the journal, rolls back a bad change on its own,
// reports drift, refuses bad input, and never shows a secret.
import t from 'tap'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { startAgentLab, minkmsReady, AGENT_UNIT } from './agent-lab.js'
import { NODE_PATHS } from './node-files.js'
import { labSkip } from './start-lab.js'

/** True when every line of `a` appears in `b` in the same order (so b only added lines). */
function onlyAdded (a: string, b: string): boolean {
  const bl = b.split('\n')
  let j = 0
  for (const line of a.split('\n')) {
    while (j < bl.length && bl[j] !== line) j++
    if (j === bl.length) return false
    j++
  }
  return true
}

const count = (text: string, needle: string): number => text.split(needle).length - 1

t.test('keyroll-agent on real nodes', { skip: labSkip }, async (t) => {
  const al = await startAgentLab(t, { nodes: 3, external: 1 })
  const { lab } = al
  await al.ready()
  const { apiKey } = await al.provisionExternal()
  const stranger = generateApiKey('k1')
  const seen: string[] = [] // every response body, for the secret grep at the end

  t.test('bad input: 400 naming the problem, nothing touched', async (t) => {
    const before = { config: await lab.readFile('node1', NODE_PATHS.config), env: await lab.readFile('node1', NODE_PATHS.envFile), inv: await al.invocation('node1') }
    const cases: Array<[string, unknown, RegExp]> = [
      ['a malformed change', { revision: 'one' }, /revision/],
      ['an unknown field', { revision: 1, files: { config: { set: {} } }, restrat: 'always' }, /restrat/],
      ['a path outside the allowlist', { revision: 1, files: { '/etc/passwd': { set: { root: 'x' } } } }, /\/etc\/passwd/],
      ['an invalid value', al.hsmChange(1, 'k1:not-a-key'), /auth\.key/]
    ]
    for (const [what, change, names] of cases) {
      const r = await al.call('node1', 'POST', '/v1/apply', change)
      seen.push(r.text)
      t.equal(r.status, 400, `${what}: 400`)
      t.match((r.json as { message?: string } | undefined)?.message, names, `${what}: the message names the problem`)
    }
    const bad = await al.call('node1', 'POST', '/v1/plan', { revision: 1, files: { env: { set: { 'BAD-NAME': 'x' } } } })
    t.equal(bad.status, 400, 'plan refuses a bad env name too')
    t.equal(await lab.readFile('node1', NODE_PATHS.config), before.config, 'config untouched')
    t.equal(await lab.readFile('node1', NODE_PATHS.envFile), before.env, 'env untouched')
    t.equal(await al.invocation('node1'), before.inv, 'minkms not restarted')
  })

  t.test('the HSM change: only added lines, one restart, verdict ok with the banner; again: ok, no restart', async (t) => {
    const config = await lab.readFile('node1', NODE_PATHS.config)
    const inv = await al.invocation('node1')
    const banners = count(await lab.journal('node1', 'minkms'), 'Server is up and running')
    const r = await al.apply('node1', al.hsmChange(1, apiKey))
    seen.push(r.text)
    t.equal(r.status, 200)
    t.equal(r.result?.result, 'changed', String(r.result?.message))
    const verdict = r.result?.verdict as { ok: boolean, lines: Array<{ message: string, kind: string }>, timings: Record<string, number> } | undefined
    t.equal(verdict?.ok, true, 'verdict ok')
    t.ok(verdict?.lines.some((l) => l.kind === 'ready' && /Server is up and running/.test(l.message)), 'the banner line is the evidence')
    const after = await lab.readFile('node1', NODE_PATHS.config)
    t.ok(onlyAdded(config, after), 'old vs new config: only added lines (comments intact)')
    t.match(after, /hsm:\n {2}minio:\n {4}minkms:/, 'the section is there')
    t.not(await al.invocation('node1'), inv, 'minkms runs a new invocation')
    t.equal(count(await lab.journal('node1', 'minkms'), 'Server is up and running'), banners + 1, 'minkms started exactly once more')
    t.ok(await minkmsReady(lab, lab.node('node1')), 'minkms ready')

    const inv2 = await al.invocation('node1')
    const again = await al.apply('node1', al.hsmChange(1, apiKey))
    seen.push(again.text)
    t.equal(again.result?.result, 'ok', 'same revision again: ok')
    t.equal(again.result?.restarted, false)
    t.equal(await al.invocation('node1'), inv2, 'InvocationID unchanged: not restarted')
  })

  t.test('a wrong auth.key: failed within 2 s of the fatal line, restored byte-identical, rolled-back', async (t) => {
    const config = await lab.readFile('node2', NODE_PATHS.config)
    const env = await lab.readFile('node2', NODE_PATHS.envFile)
    const r = await al.apply('node2', al.hsmChange(1, stranger.key))
    seen.push(r.text)
    t.equal(r.result?.result, 'rolled-back', String(r.result?.message))
    t.equal(r.result?.failedStep, 'verify')
    const v = r.result?.verdict as { ok: boolean, reason: string, lines: Array<{ kind: string, message: string }>, timings: { fatalLineAt?: number, failedAt?: number, verdictAt: number } } | undefined
    t.equal(v?.ok, false)
    t.ok(v?.lines.some((l) => l.kind === 'fatal' && /FATAL/.test(l.message)), 'the fatal line is the evidence')
    const seenAt = v?.timings.fatalLineAt ?? v?.timings.failedAt
    t.ok(seenAt !== undefined && v !== undefined && v.timings.verdictAt - seenAt < 2000, `verdict ${seenAt === undefined ? '?' : v!.timings.verdictAt - seenAt} ms after the fatal line (< 2000)`)
    t.comment(`reason ${v?.reason}; fatal line → verdict ${seenAt === undefined ? '?' : v!.timings.verdictAt - seenAt} ms`)
    t.equal((r.result?.rollbackVerdict as { ok: boolean } | undefined)?.ok, true, 'the restore was verified')
    t.equal(await lab.readFile('node2', NODE_PATHS.config), config, 'config byte-identical')
    t.equal(await lab.readFile('node2', NODE_PATHS.envFile), env, 'env byte-identical')
    t.equal((await lab.systemctl('node2', 'is-active', 'minkms')).stdout.trim(), 'active', 'minkms runs on the old config')
    t.ok(await minkmsReady(lab, lab.node('node2')), 'and answers ready')
  })

  t.test('unsetting MINIO_KMS_HSM_KEY keeps every other line and comment', async (t) => {
    const env = await lab.readFile('node1', NODE_PATHS.envFile)
    const r = await al.apply('node1', al.hsmChange(2, apiKey, { unsetHsmKey: true }))
    seen.push(r.text)
    t.equal(r.result?.result, 'changed', String(r.result?.message))
    const after = await lab.readFile('node1', NODE_PATHS.envFile)
    t.equal(after, env.split('\n').filter((l) => !l.startsWith('MINIO_KMS_HSM_KEY=')).join('\n'), 'exactly that line is gone')
    t.match(await lab.journal('node1', 'minkms'), /Unsealed root encryption key with HSM hsm:minio:minkms/, 'minkms unsealed through the external HSM')
  })

  t.test('a hand edit shows as drift in /v1/status and /metrics within 1 s', async (t) => {
    const config = await lab.readFile('node3', NODE_PATHS.config)
    const start = Date.now()
    await lab.writeFile('node3', NODE_PATHS.config, config + '# edited by hand\n')
    const status = await lab.waitFor(async () => {
      const s = await al.call('node3', 'GET', '/v1/status')
      const drift = (s.json as { drift?: Array<{ name: string, path: string, fingerprint: string }> }).drift ?? []
      return drift.find((d) => d.name === 'config')
    }, { timeoutMs: 5000, intervalMs: 25, what: 'drift in /v1/status' })
    const ms = Date.now() - start
    t.ok(ms <= 1000, `drift seen in /v1/status after ${ms} ms`)
    t.equal(status.path, NODE_PATHS.config)
    t.match(status.fingerprint, /^[A-Za-z0-9_-]{8}$/, 'with a fingerprint')
    const metrics = await al.call('node3', 'GET', '/metrics')
    t.match(metrics.text, /keyroll_agent_drift\{file="config"\} 1/, 'and in /metrics')
    t.ok(Date.now() - start <= 1500, 'both within the second (plus one request)')
  })

  t.test('killed mid-apply: ExecStartPre puts the files back; the daemon, or the boot, restarts minkms on them', async (t) => {
    const before = { config: await lab.readFile('node2', NODE_PATHS.config), env: await lab.readFile('node2', NODE_PATHS.envFile) }
    // A long stability window, so that the kill lands while the agent verifies the new run.
    const change = { ...(al.hsmChange(1, apiKey) as object), verify: { deadline: '90s', stableFor: '60s' } }
    const agentPid = async (): Promise<string> => (await lab.systemctl('node2', 'show', '-p', 'MainPID', '--value', AGENT_UNIT)).stdout.trim()
    /**
     * Starts the apply, waits until minkms runs the new files, SIGKILLs the agent, then runs
     * `after` at once (before the 2 s RestartSec); returns the minkms run the agent left.
     */
    const killMidVerify = async (after: (pid: string) => Promise<unknown>): Promise<string> => {
      const inv = await al.invocation('node2')
      const pid = await agentPid()
      const stream = al.applyStream('node2', change, () => {})
      const running = await lab.waitFor(async () => {
        const now = await al.invocation('node2')
        return now !== inv && now !== '' && await minkmsReady(lab, lab.node('node2')) ? now : undefined
      }, { timeoutMs: 30_000, what: 'minkms restarted on the new files' })
      t.match(await lab.readFile('node2', NODE_PATHS.config), /aistor-key-manager-hsm/, 'the new config is on disk while the agent verifies')
      await lab.systemctl('node2', 'kill', '-s', 'SIGKILL', AGENT_UNIT)
      await after(pid)
      const s = await stream
      t.ok(s.broken, 'the apply stream broke: the agent died mid-apply')
      return running
    }
    const execStartPre = async (): Promise<string> => (await lab.systemctl('node2', 'show', '-p', 'ExecStartPre', AGENT_UNIT)).stdout

    // 1. While minkms runs: Restart=on-failure brings the agent back; ExecStartPre may not restart
    // minkms (ordered after the agent, it would wait for ExecStartPre), so the daemon does.
    const killedRun = await killMidVerify(async (pid) => {
      await lab.waitFor(async () => { const p = await agentPid(); return p !== pid && p !== '0' }, { timeoutMs: 30_000, what: 'the agent started again' })
    })
    await al.ready()
    t.match(await execStartPre(), /code=exited ; status=0 }/, 'ExecStartPre (recover) exited 0')
    t.equal(await lab.readFile('node2', NODE_PATHS.config), before.config, 'config back byte-identical')
    t.equal(await lab.readFile('node2', NODE_PATHS.envFile), before.env, 'env back byte-identical')
    const status = (await al.call('node2', 'GET', '/v1/status')).json as { appliedRevision: number, lastResult?: { result: string, message: string } }
    t.equal(status.appliedRevision, 0, 'still on the old revision')
    t.equal(status.lastResult?.result, 'rolled-back')
    t.match(status.lastResult?.message, /files put back at start, minkms\.service restarted on them/, 'the daemon restarted minkms on the restored files')
    t.not(await al.invocation('node2'), killedRun, 'minkms no longer runs the interrupted content')
    t.ok(await minkmsReady(lab, lab.node('node2')), 'minkms ready on the old config')
    const agentLog = await lab.journal('node2', AGENT_UNIT)
    t.match(agentLog, /undone an interrupted change: apply of revision 1 was interrupted; restored revision 0 \(1 file put back\); minkms\.service is active and may still run the interrupted content/, 'ExecStartPre said what it did')

    // 2. As at boot: agent and minkms start in one transaction, minkms ordered after the agent.
    await killMidVerify(async () => { await lab.systemctl('node2', 'stop', AGENT_UNIT, 'minkms.service') })
    const start = await lab.systemctl('node2', 'start', AGENT_UNIT, 'minkms.service')
    t.equal(start.code, 0, `both started: ${start.stderr}`)
    await al.ready()
    t.match(await execStartPre(), /code=exited ; status=0 }/, 'ExecStartPre exited 0 (before the fix, its restart of minkms waited for itself)')
    t.equal(await lab.readFile('node2', NODE_PATHS.config), before.config, 'config back byte-identical before minkms started')
    t.ok(await minkmsReady(lab, lab.node('node2')), 'minkms started on the restored files')
    t.match(await lab.journal('node2', AGENT_UNIT), /minkms\.service is not running and starts on them/, 'no restart needed at boot')
    const after = (await al.call('node2', 'GET', '/v1/status')).json as { appliedRevision: number }
    t.equal(after.appliedRevision, 0)
    seen.push(agentLog)
  })

  t.test('the hardened unit: no W+X memory, a system-call filter', async (t) => {
    const show = (await lab.systemctl('node1', 'show', '-p', 'MemoryDenyWriteExecute', '-p', 'SystemCallErrorNumber', '-p', 'MainPID', AGENT_UNIT)).stdout
    t.match(show, /MemoryDenyWriteExecute=yes/)
    const pid = /MainPID=(\d+)/.exec(show)?.[1] ?? '0'
    const procStatus = (await lab.exec('node1', ['cat', `/proc/${pid}/status`])).stdout
    t.match(procStatus, /Seccomp:\s+2/, 'the agent runs under a seccomp filter')
    t.match((await lab.exec('node1', ['cat', `/proc/${pid}/cmdline`])).stdout.split('\0').join(' '), /--jitless/, 'node runs jitless')
    t.notMatch(await lab.journal('node1', AGENT_UNIT), /disabling flag|Warning/, 'and says nothing about it in the journal')
  })

  t.test('no secret in logs, responses or diffs', async (t) => {
    const plan = await al.call('node3', 'POST', '/v1/plan', al.hsmChange(5, apiKey, { unsetHsmKey: true }))
    seen.push(plan.text)
    t.equal(plan.status, 200)
    t.match(plan.text, /\*\*\*/, 'the plan masks secrets')
    for (const n of ['node1', 'node2', 'node3']) {
      seen.push((await al.call(n, 'GET', '/v1/status')).text)
      seen.push((await al.call(n, 'GET', '/metrics')).text)
      seen.push((await al.call(n, 'GET', '/v1/journal?limit=200')).text)
      seen.push(await lab.journal(n, AGENT_UNIT))
    }
    const secrets = { 'admin API key': apiKey, 'stranger API key': stranger.key, 'cluster HSM key': lab.hsmKey('cluster'), 'cluster root API key': lab.rootKey('cluster') }
    const all = seen.join('\n')
    t.ok(all.length > 1000, 'there is output to search')
    for (const [what, value] of Object.entries(secrets)) {
      t.notOk(all.includes(value), `no ${what}`)
      t.notOk(all.includes(value.slice(-20)), `no tail of the ${what}`)
    }
  })
})
