// Lab tier: the agent's real OS adapters and the restart verifier inside a real systemd node
// (systemd 252, journald, minkms.service running the emulator with Restart=always and the
// default start limit). The code runs in the node (compiled, from /opt/keyroll/dist), as the
// agent will.
import t from 'tap'
import type { Verdict } from '../../agent/verify/verdict.js'
import { NODE_PATHS } from './node-files.js'
import { labSkip, startLab, type Lab, type LabNode } from './start-lab.js'

const PROBE = '/opt/keyroll/dist/test/lab/agent-os-probe.js'
const EXIT_1 = `${NODE_PATHS.faultsDir}/exit-1`

interface VerifyOut { verdict: Verdict, returnedAt: number, children: string[] }

async function probe (lab: Lab, node: LabNode, args: string[]): Promise<unknown> {
  // env -i: under tap, @tapjs/processinfo puts its NODE_OPTIONS (a loader from the host's
  // node_modules) into every child's environment, even an explicit one; the node has no such file.
  const r = await lab.exec(node, ['env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', '/usr/bin/node', PROBE, ...args, '--endpoint', `${node.address}:${node.port}`, '--ca-dir', NODE_PATHS.caDir], { timeoutMs: 120_000 })
  return JSON.parse(r.stdout)
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] ?? NaN

t.test('agent OS adapters and the restart verifier on real systemd', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 1, external: 0 })
  const node = lab.node('node1')

  t.test('adapters: cursor, status, restart --no-block, follow with systemd\'s own lines, read', async (t) => {
    const out = await probe(lab, node, ['adapters']) as {
      cursor: string
      before: { invocationId: string, activeState: string }
      after: { invocationId: string, activeState: string, subState: string, nRestarts: number }
      followed: Array<{ message: string, origin?: string, invocationId?: string, lagMs: number }>
      read: string[]
      limited: string[]
      nosuch: number
      notFound: { code: string, stderr: string }
    }
    t.match(out.cursor, /^s=[0-9a-f]+;i=[0-9a-f]+;b=/, 'a journald cursor')
    t.equal(out.before.activeState, 'active')
    t.not(out.after.invocationId, out.before.invocationId, 'the restart made a new run')
    t.same([out.after.activeState, out.after.subState, out.after.nRestarts], ['active', 'running', 0])
    const started = out.followed.find((e) => e.message.startsWith('Started minkms.service'))
    t.equal(started?.origin, 'manager', "systemd's Started line is followed, as the manager's")
    t.equal(started?.invocationId, out.after.invocationId, 'and carries the new run (INVOCATION_ID)')
    t.ok(out.followed.some((e) => e.origin === 'manager' && e.invocationId === out.before.invocationId), 'the old run\'s stop lines carry the old run')
    const ready = out.followed.at(-1)
    t.equal(ready?.message, '=> Server is up and running...')
    t.equal(ready?.origin, 'unit')
    t.comment(`follow latency of the ready line (journal timestamp → received): ${Math.round(ready?.lagMs ?? NaN)} ms`)
    t.same(out.read.slice(0, out.followed.length), out.followed.map((e) => e.message), 'read after the cursor sees what follow saw')
    t.same(out.limited, out.read.slice(0, 3), '-n after a cursor: the first N after it')
    t.equal(out.nosuch, 0, 'a unit that never logged reads as empty')
    t.equal(out.notFound.code, 'AGT_UNIT_NOT_FOUND')
    t.match(out.notFound.stderr, /Unit nosuch.service not found/)
  })

  t.test('a real restart: ok, with the ready line as evidence', async (t) => {
    const { verdict: v, children } = await probe(lab, node, ['verify', '--deadline', '30000', '--stable', '2000']) as VerifyOut
    t.equal(v.ok, true, v.summary)
    t.equal(v.reason, 'ready')
    t.same(v.lines.map((l) => [l.kind, l.message]), [['ready', '=> Server is up and running...']])
    t.equal(v.lines[0]?.invocationId, v.invocationId)
    t.same([v.unit?.activeState, v.unit?.subState], ['active', 'running'])
    const tm = v.timings
    t.ok(tm.readyLineAt !== undefined && tm.healthyAt !== undefined && tm.verdictAt - (tm.healthyAt ?? 0) >= 2000, 'held for the window')
    t.same(children, [], 'no journalctl (or other child) left after verify returned')
    t.comment(`restart → ready line ${Math.round((tm.readyLineAt ?? 0) - tm.restartAt)} ms, → verdict ${tm.verdictAt - tm.restartAt} ms (window 2000 ms); ready line → verdict ${Math.round(tm.verdictAt - (tm.readyLineAt ?? 0))} ms`)
    t.comment(v.summary)
  })

  t.test('exit-1 fault: failed at once with the FATAL line', async (t) => {
    await lab.writeFile(node, EXIT_1, '')
    t.teardown(async () => { await lab.exec(node, ['rm', '-f', EXIT_1]) })
    const latencies: number[] = []
    for (let i = 0; i < 5; i++) {
      const { verdict: v, returnedAt, children } = await probe(lab, node, ['verify', '--deadline', '30000', '--stable', '2000']) as VerifyOut
      t.equal(v.ok, false)
      t.equal(v.reason, 'fatal-line', v.summary)
      const fatal = v.lines.find((l) => l.kind === 'fatal')
      t.match(fatal?.message, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d FATAL kms: fault injection: exit-1$/)
      t.equal(fatal?.invocationId, v.invocationId, 'the FATAL line is the new run\'s')
      t.same(children, [])
      const latency = Math.round(returnedAt - (v.timings.fatalLineAt ?? NaN))
      t.ok(latency < 2000, `fatal line → verdict ${latency} ms (acceptance: < 2 s)`)
      latencies.push(latency)
      if (i === 0) t.comment(v.summary)
    }
    t.comment(`fatal line → verdict returned: p50 ${pct(latencies, 0.5)} ms, max ${Math.max(...latencies)} ms over ${latencies.length} (${latencies.join(', ')})`)
  })

  t.test('the rollback case: restarting a unit that is crash-looping gives ok on the fixed config', async (t) => {
    for (let i = 0; i < 3; i++) {
      await lab.writeFile(node, EXIT_1, '')
      const out = await probe(lab, node, ['fail-then-fix', '--fault', EXIT_1, '--deadline', '30000', '--stable', '1000']) as { failed: VerifyOut, fixed: VerifyOut }
      t.equal(out.failed.verdict.reason, 'fatal-line', out.failed.verdict.summary)
      t.equal(out.fixed.verdict.reason, 'ready', out.fixed.verdict.summary)
      t.not(out.fixed.verdict.invocationId, out.failed.verdict.invocationId)
    }
  })

  t.test('after the fault is gone, a restart is ok again (reset-failed cleared the start limit)', async (t) => {
    await lab.exec(node, ['rm', '-f', EXIT_1])
    const { verdict: v } = await probe(lab, node, ['verify', '--deadline', '30000', '--stable', '1000']) as VerifyOut
    t.equal(v.reason, 'ready', v.summary)
  })
})
