// `npm run demo`: the job keyroll exists for, end to end on the lab. Boots a lab (3 Key Manager
// nodes with keyroll-agent, a 2-node external Key Manager, keyroll-coordinator on `coord`)
// through the lab CLI, runs a client load through every cluster node, moves the cluster's
// root-key HSM onto the external Key Manager with the real `keyroll hsm migrate` (its live output
// shown as it comes), then checks what an operator would check and tears the lab down. The
// migration succeeds for the demo only when the CLI says so AND the nodes, the cluster and the
// load agree: every check here reads the lab itself, not the coordinator's word.
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { HsmMigrationReport } from '../../shared/schemas/hsm-migration.js'
import { startClientLoad, type ClientLoad, type ClientLoadReport } from '../lab/client-load.js'
import { hsmMigrateArgs, LAB_HSM } from '../lab/lab-external.js'
import { COORDINATOR_UNIT, type KeyrollFiles } from '../lab/lab-keyroll.js'
import { AGENT_UNIT } from '../lab/lab-agents.js'
import { labLayout } from '../lab/lab-paths.js'
import { keyrollExports, type LabStatus, type NodeStatus } from '../lab/lab-status.js'
import { repoRoot } from '../lab/repo.js'
import type { DemoArgs } from './demo-args.js'
import { checkClusterHsms, checkConfig, checkEnv, checkLoad, checkRestarts, findLeaks, HSM_KEY_VAR, minkmsStarts, restartsByPhase, type NamedSecret } from './demo-checks.js'
import { breakdownLines, migrationBreakdown } from './demo-breakdown.js'
import { prefixLines, runChild } from './demo-child.js'
import { migrationEvents } from './demo-events.js'
import { clusterAccess, clusterEndpoints, clusterHsms, journalCursor, journalText, prepareLoadKey, readNodeFiles, roundTripEachNode, type NodeFiles } from './demo-lab.js'
import { findingsLines, formatMs, parseReport, reportLines, type NodeFindings } from './demo-report.js'

/** Where the demo writes. */
export interface DemoIo {
  out: (s: string) => void
  err: (s: string) => void
}

/** The enclave and key of the client load, on the cluster itself. */
const LOAD = { enclave: 'keyroll-demo-load', key: 'load-key' }
/** Round trips per second through each cluster node (24 in all, about the coordinator acceptance's 25). */
const LOAD_PER_NODE = 8
/**
 * The load's per-attempt timeout. Longer than the lab tests' 2 s: the demo runs on whatever
 * machine it is given, and a starved 2-core host can take over 2 s for a TLS handshake while
 * nothing is wrong with the cluster (the failover still answers a node that is down at once).
 */
const LOAD_TIMEOUT_MS = 5000
/** How long the lab may take to come up, and the migration to finish. */
const UP_DEADLINE_MS = 10 * 60_000
const MIGRATE_DEADLINE_MS = 20 * 60_000

class Interrupted extends Error {}

/** Runs the demo; resolves with the exit code (0 only when the migration and every check succeeded). */
export async function runDemo (args: DemoArgs, io: DemoIo, signal: AbortSignal): Promise<number> {
  const repo = repoRoot()
  const layout = labLayout(args.id)
  const labCli = join(repo, 'dist/test/lab/lab-cli.js')
  const idArgs = ['--id', String(args.id)]
  const say = (line = ''): void => { io.out(line + '\n') }
  const step = (n: number, what: string): void => { say(''); say(`== ${n}/5 ${what}`) }
  const t0 = Date.now()

  if (process.getuid?.() !== 0) {
    io.err('demo: the lab needs root (it boots systemd nodes with systemd-nspawn); run it as root on Debian 12\n')
    return 2
  }
  if (existsSync(layout.base)) {
    io.err(`demo: lab ${args.id} already exists (left by \`npm run lab -- up\` or \`npm run demo -- --keep\`); ` +
      `remove it with \`npm run lab -- down${args.id === 0 ? '' : ` --id ${args.id}`}\`, or pass --id N for another lab\n`)
    return 1
  }

  let labStarted = false
  let status: LabStatus | undefined
  const loads: ClientLoad[] = []
  const tmp = await mkdtemp(join(tmpdir(), 'keyroll-demo-'))
  let ok = false
  try {
    step(1, `booting the lab (${args.id}): node1..3 with keyroll-agent, ext1..2 (the external Key Manager), coord (keyroll-coordinator); 10–40 s`)
    labStarted = true
    const labLog = prefixLines('   lab: ', io.err)
    const stableArgs = args.stableFor === undefined ? [] : ['--agent-stable-for', args.stableFor]
    const up = await runChild(process.execPath, [labCli, 'up', ...idArgs, '--nodes', '3', '--external', '2', '--keyroll', ...stableArgs, '--json'],
      { onStderr: labLog.push, signal, deadlineMs: UP_DEADLINE_MS })
    labLog.flush()
    if (up.stopped === 'interrupted') throw new Interrupted()
    if (up.code !== 0) throw new Error(`the lab did not come up (lab CLI exit ${up.code ?? up.signal ?? '?'}${up.stopped === 'deadline' ? ', past its deadline' : ''})`)
    status = JSON.parse(up.stdout) as LabStatus
    const { keyroll, external } = status
    if (keyroll === null || external === null) throw new Error('the lab has no coordinator or no external Key Manager (status --json)')
    const cluster = status.nodes.filter((n) => n.role === 'cluster')
    say(`lab up in ${formatMs(Date.now() - t0)}: cluster ${cluster.map((n) => `${n.name} ${n.address}`).join(', ')}; external ${external.servers.join(', ')}; coordinator ${keyroll.url}`)

    step(2, `starting a client load: ${LOAD_PER_NODE} encrypt→decrypt round trips per second through each cluster node, for the whole migration`)
    const before = new Map<string, NodeFiles>()
    for (const n of cluster) before.set(n.name, await readNodeFiles(n))
    // Every journal is read from here on: what the migration did, not what the lab's boot logged
    // (minkms prints its root API key at start, the external one's is the admin key).
    const cursors = new Map<string, string>()
    for (const { node, unit } of logUnits(status)) cursors.set(`${node.name}/${unit}`, await journalCursor(node, unit))
    await prepareLoadKey(status, LOAD.enclave, LOAD.key)
    const served = await roundTripEachNode(status, LOAD.enclave, LOAD.key)
    if (served.length > 0) throw new Error(`the cluster does not serve before the migration: ${served.join('; ')}`)
    const access = await clusterAccess(status)
    const endpoints = clusterEndpoints(status)
    // One load per node, each preferring its node (the client sticks to the first endpoint that
    // answers and fails over to the others): every node's endpoint carries traffic.
    endpoints.forEach((_, i) => {
      loads.push(startClientLoad({ endpoints: [...endpoints.slice(i), ...endpoints.slice(0, i)], apiKey: access.apiKey, ca: access.ca, ...LOAD, perSecond: LOAD_PER_NODE, timeoutMs: LOAD_TIMEOUT_MS }))
    })

    step(3, 'keyroll hsm migrate (the real CLI against the coordinator\'s API; its live output follows)')
    // With --report the CLI writes the user's file itself (the path it prints then stays true);
    // otherwise a working copy in the demo's temporary directory, removed at its end.
    const reportFile = args.report ?? join(tmp, 'report.json')
    const cliArgs = [...hsmMigrateArgs(keyroll.cluster, external), ...(args.minHealthyTime === undefined ? [] : ['--min-healthy-time', args.minHealthyTime]), '--report', reportFile]
    for (const l of keyrollExports(keyroll)) say(`   ${l}`)
    say(`   npx keyroll ${cliArgs.join(' ')}`)
    say('')
    const cliStart = Date.now()
    const cli = await runChild(process.execPath, [join(repo, 'coordinator/bin/keyroll.js'), ...cliArgs], {
      env: { ...process.env, KEYROLL_URL: keyroll.url, KEYROLL_CA: keyroll.ca, KEYROLL_TOKEN_FILE: keyroll.operatorTokenFile },
      cwd: repo,
      onStdout: io.out,
      onStderr: io.err,
      signal,
      deadlineMs: MIGRATE_DEADLINE_MS
    })
    if (cli.stopped === 'interrupted') throw new Interrupted()
    const cliMs = Date.now() - cliStart
    if (args.report === undefined) say('(that report file is the demo\'s working copy, removed when the demo ends; `npm run demo -- --report FILE` keeps one)')
    const loadReport = mergeLoads(await Promise.all(loads.splice(0).map(async (l) => await l.stop())))

    step(4, 'checking: the report, the client load, every node (files, restarts, cluster status), secrets in logs')
    const failures: string[] = []
    if (cli.code !== 0) failures.push(`keyroll hsm migrate exited ${cli.code ?? cli.signal ?? '?'}${cli.stopped === 'deadline' ? ` (stopped after ${formatMs(MIGRATE_DEADLINE_MS)})` : ''}`)
    say(`keyroll hsm migrate: exit ${cli.code ?? cli.signal ?? '?'} after ${formatMs(cliMs)}`)

    let report: HsmMigrationReport | undefined
    const reportText = await readFile(reportFile, 'utf8').catch(() => undefined)
    if (reportText === undefined) {
      failures.push('keyroll hsm migrate wrote no report')
    } else {
      const parsed = parseReport(reportText)
      if ('error' in parsed) failures.push(parsed.error)
      else {
        report = parsed.report
        for (const l of reportLines(report)) say(l)
        if (report.result !== 'succeeded') failures.push(`the migration ${report.result}${report.message === undefined ? '' : `: ${report.message}`}`)
        await sayBreakdown(keyroll, report.id, args.events, say)
      }
    }

    const loadProblems = checkLoad(loadReport)
    say(`client load: ${loadReport.ok} operations ok, ${loadReport.failed} failed, over ${formatMs(loadReport.stoppedAt - loadReport.startedAt)}`)
    for (const f of loadReport.failures.slice(0, 5)) say(`   failed at ${new Date(f.at).toISOString()}: ${f.message}`)
    failures.push(...loadProblems)

    const findings: NodeFindings[] = []
    for (const n of cluster) {
      const old = before.get(n.name) as NodeFiles
      const now = await readNodeFiles(n)
      const restarts = restartsByPhase(minkmsStarts(await journalText(n, 'minkms', cursors.get(`${n.name}/minkms`))))
      const problems = [...checkConfig(old.config, now.config, { servers: external.servers, ...LAB_HSM }), ...checkEnv(old.env, now.env), ...checkRestarts(restarts)]
      const reported = report?.nodes.find((r) => r.name === n.name)
      if (report !== undefined && reported === undefined) problems.push('not in the report')
      else if (reported !== undefined && reported.restarts !== restarts.A + restarts.B + restarts.other) {
        problems.push(`the report says ${reported.restarts} restarts, the journal shows ${restarts.A + restarts.B + restarts.other}`)
      }
      findings.push({ name: n.name, restarts, problems })
      failures.push(...problems.map((p) => `${n.name}: ${p}`))
    }
    say('every node, as the demo read it (config has hsm.minio.minkms with earlier comments and settings intact; no ' +
      `${HSM_KEY_VAR} in /etc/default/minkms; minkms starts from its journal):`)
    for (const l of findingsLines(findings)) say(l)

    const clusterProblems = checkClusterHsms(await clusterHsms(status).catch((err: unknown) => {
      failures.push(`CLUSTER:STATUS failed: ${(err as Error).message}`)
      return []
    }), endpoints)
    const serveProblems = await roundTripEachNode(status, LOAD.enclave, LOAD.key)
    say(`cluster status: ${clusterProblems.length === 0 ? 'every node configured with hsm:minio:minkms alone, each holding its sealed root key' : clusterProblems.join('; ')}`)
    say(`encrypt/decrypt through each node alone: ${serveProblems.length === 0 ? 'ok' : serveProblems.join('; ')}`)
    failures.push(...clusterProblems, ...serveProblems)

    const logs = [{ name: 'the CLI output', text: cli.stdout + cli.stderr }, { name: 'the report', text: reportText ?? '' }]
    for (const { node, unit } of logUnits(status)) logs.push({ name: `${node.name}'s journal of ${unit}`, text: await journalText(node, unit, cursors.get(`${node.name}/${unit}`)) })
    const leaks = findLeaks(logs, await demoSecrets(status, before, cluster))
    say(`secrets in the CLI's output, the report and every journal since the migration began (the admin key, the generated API key, ${HSM_KEY_VAR}): ${leaks.length === 0 ? 'none found' : leaks.join('; ')}`)
    failures.push(...leaks)

    step(5, 'result')
    ok = failures.length === 0
    if (ok) say(`demo succeeded in ${formatMs(Date.now() - t0)}: the cluster's root key is sealed by the external Key Manager alone, every node restarted once per phase, ${loadReport.ok} client operations and none failed`)
    else {
      say(`demo FAILED (${failures.length} problem${failures.length === 1 ? '' : 's'}):`)
      for (const f of failures) say(`  - ${f}`)
    }
    return ok ? 0 : 1
  } catch (err) {
    if (err instanceof Interrupted || signal.aborted) {
      io.err('\ndemo: interrupted\n')
      return 130
    }
    io.err(`demo: ${(err as Error).message}\n`)
    return 1
  } finally {
    await Promise.all(loads.map(async (l) => await l.stop().catch(() => undefined)))
    await rm(tmp, { recursive: true, force: true })
    if (args.keep && status !== undefined) {
      printExplore(io, status)
    } else if (labStarted) {
      io.err(`demo: tearing lab ${args.id} down${args.keep ? ' (it never came up, so --keep has nothing to keep)' : ''}\n`)
      const labLog = prefixLines('   lab: ', io.err)
      const down = await runChild(process.execPath, [labCli, 'down', ...idArgs], { onStderr: labLog.push, deadlineMs: 5 * 60_000 })
      labLog.flush()
      if (down.code !== 0) io.err(`demo: the teardown failed; \`npm run lab -- down${args.id === 0 ? '' : ` --id ${args.id}`}\` removes what is left\n`)
    }
  }
}

/**
 * Where the migration's wall time went, from its events (the coordinator's API); with --events,
 * the events go to that file too. A read that fails is said, never a failure of the demo: the
 * breakdown is the benchmark's, not a check.
 */
async function sayBreakdown (keyroll: KeyrollFiles, id: string, eventsFile: string | undefined, say: (line: string) => void): Promise<void> {
  try {
    const { migration, events } = await migrationEvents(keyroll, id)
    say('where the migration\'s time went (from its events; each span runs from the mark before it):')
    for (const l of breakdownLines(migrationBreakdown(migration, events))) say(l)
    if (eventsFile !== undefined) {
      // Without the journal lines: the breakdown does not use them, and a node's journal may quote its own secrets.
      await writeFile(eventsFile, JSON.stringify({ migration, events: events.filter((e) => e.type !== 'journal') }, null, 2) + '\n')
      say(`events written to ${eventsFile}`)
    }
  } catch (err) {
    say(`the migration's events could not be read for the breakdown: ${(err as Error).message}`)
  }
}

/** The loads' counts together (one load per node). */
function mergeLoads (reports: readonly ClientLoadReport[]): ClientLoadReport {
  return {
    ok: reports.reduce((s, r) => s + r.ok, 0),
    failed: reports.reduce((s, r) => s + r.failed, 0),
    failures: reports.flatMap((r) => r.failures).sort((a, b) => a.at - b.at),
    latencies: reports.flatMap((r) => r.latencies),
    startedAt: Math.min(...reports.map((r) => r.startedAt)),
    stoppedAt: Math.max(...reports.map((r) => r.stoppedAt))
  }
}

/** The secrets that must appear in no log: the external admin key, the generated API key, the local HSM key. */
async function demoSecrets (s: LabStatus, before: ReadonlyMap<string, NodeFiles>, cluster: readonly NodeStatus[]): Promise<NamedSecret[]> {
  const secrets: NamedSecret[] = []
  if (s.external !== null) secrets.push({ name: 'the external admin key', value: (await readFile(s.external.adminKeyFile, 'utf8')).trim() })
  const first = cluster[0]
  if (first !== undefined) {
    const now = await readNodeFiles(first)
    try {
      const apiKey = (parse(now.config) as { hsm?: { minio?: { minkms?: { auth?: { key?: unknown } } } } })?.hsm?.minio?.minkms?.auth?.key
      if (typeof apiKey === 'string') secrets.push({ name: 'the generated API key', value: apiKey })
    } catch { /* checkConfig reports an unparsable config */ }
    const hsmKey = /^MINIO_KMS_HSM_KEY=(.*)$/m.exec(before.get(first.name)?.env ?? '')?.[1]?.replace(/^["']|["']$/g, '')
    if (hsmKey !== undefined) secrets.push({ name: HSM_KEY_VAR, value: hsmKey })
  }
  return secrets
}

/** Every journal the secrets must stay out of: the coordinator's, the agents', every minkms's. */
function logUnits (s: LabStatus): Array<{ node: NodeStatus, unit: string }> {
  return s.nodes.filter((n) => n.running).flatMap((node) =>
    (node.role === 'coordinator' ? [COORDINATOR_UNIT] : node.role === 'cluster' ? ['minkms', AGENT_UNIT] : ['minkms']).map((unit) => ({ node, unit })))
}

/** With --keep: how to look around the lab, and how to remove it. */
function printExplore (io: DemoIo, s: LabStatus): void {
  const idFlag = s.id === 0 ? '' : ` --id ${s.id}`
  const node1 = s.nodes.find((n) => n.role === 'cluster')
  const lines = [
    '',
    `The lab is still running (lab ${s.id}, in ${s.base}). To look around:`,
    ...(s.keyroll === null ? [] : keyrollExports(s.keyroll).map((l) => `  ${l}`)),
    '  npx keyroll hsm list                 # the migration just run',
    '  npx keyroll nodes                    # each node\'s health through the coordinator',
    `  npm run lab -- status${idFlag}               # every node, address, file and key file`,
    ...(node1 === undefined || node1.leaderPid === null
      ? []
      : [`  nsenter -t ${node1.leaderPid} -a /bin/bash    # a shell in ${node1.name}: cat /etc/minkms/config.yaml, journalctl -u minkms`]),
    `To remove it: npm run lab -- down${idFlag}`
  ]
  io.out(lines.join('\n') + '\n')
}
