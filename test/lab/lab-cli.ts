// `npm run lab -- up|status|down`: the lab by hand. Exit codes: 0 done, 1 failed, 2 bad arguments.
// Run directly as `node dist/test/lab/lab-cli.js ...` too (test/run-tests.mjs sweeps stale labs so).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { cgroupLabIds } from './cgroups.js'
import { allocateLabId, claimLabId, labDirIds, movedAsideIds, ownerIsLive, readOwner, sweepDeadClaims } from './lab-ids.js'
import { downLab } from './lab-down.js'
import { MAX_LAB_ID, MAX_NODES_PER_ROLE, labLayout } from './lab-paths.js'
import { readLabState } from './lab-state.js'
import { labLeftovers, labStatus, statusTable } from './lab-status.js'
import { LAB_AGENT_STABLE_FOR, labStableForProblem } from './lab-agents.js'
import { upLab } from './lab-up.js'
import { networkLabIds } from './netns.js'
import { LAB_ROOT_IDENTITIES, type LabRootIdentity } from './node-files.js'
import { processRef } from './procfs.js'

function intIn (min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`)
    return n
  }
}

function agentStableFor (value: string): string {
  const problem = labStableForProblem(value)
  if (problem !== undefined) throw new InvalidArgumentError(problem)
  return value
}

const out = (s: string): void => { process.stdout.write(s + '\n') }
const err = (s: string): void => { process.stderr.write(s + '\n') }

/** `--id auto` for `up`: the lowest free id from 1. */
const AUTO = -1

type UpFlags = { id: number, nodes: number, external: number, agents?: boolean, keyroll?: boolean, agentStableFor?: string, rootIdentity: LabRootIdentity, json?: boolean, ownerPid?: number }

async function up (o: UpFlags): Promise<number> {
  // With --owner-pid the lab belongs to that process like a test's lab: stale once it exits.
  const owner = o.ownerPid === undefined ? undefined : processRef(o.ownerPid)
  if (o.ownerPid !== undefined && owner === undefined) {
    err(`--owner-pid ${o.ownerPid}: no such process`)
    return 2
  }
  const kind = owner === undefined ? 'cli' : 'test'
  const claim = owner === undefined ? {} : { owner }
  // An explicit id replaces the CLI's own lab of that id, but never one a running test holds.
  const layout = o.id === AUTO ? await allocateLabId(kind, claim) : await claimLabId(o.id, kind, { takeOver: true, ...claim })
  if (layout === undefined) {
    const owner = await readOwner(labLayout(o.id))
    err(`lab ${o.id} is in use by a running ${owner?.kind ?? 'unknown'} process ${owner?.pid ?? ''}; pick another --id`)
    return 1
  }
  try {
    const state = await upLab(layout, { nodes: o.nodes, external: o.external, agents: o.agents === true, keyroll: o.keyroll === true, ...(o.agentStableFor === undefined ? {} : { agentStableFor: o.agentStableFor }), rootIdentity: o.rootIdentity, log: err })
    const status = await labStatus(state)
    out(o.json === true ? JSON.stringify(status, null, 2) : statusTable(status))
    return 0
  } catch (e) {
    err(`up failed: ${(e as Error).message}`)
    err('tearing the lab down')
    await downLab(layout.id).catch((d: unknown) => { err(`down failed too: ${(d as Error).message}`) })
    return 1
  }
}

async function status (o: { id: number, json?: boolean }): Promise<number> {
  const state = await readLabState(labLayout(o.id))
  if (state === undefined) {
    err(`lab ${o.id} does not exist`)
    return 1
  }
  const s = await labStatus(state)
  out(o.json === true ? JSON.stringify(s, null, 2) : statusTable(s))
  return 0
}

/** Every lab id that has anything on this host. */
async function allLabIds (): Promise<number[]> {
  await sweepDeadClaims()
  const ids = [...await labDirIds(), ...await movedAsideIds(), ...cgroupLabIds(), ...await networkLabIds()]
  return [...new Set(ids)].sort((a, b) => a - b)
}

async function down (o: { id: number, all?: boolean, stale?: boolean }): Promise<number> {
  let ids = [o.id]
  if (o.all === true || o.stale === true) {
    ids = await allLabIds()
    // Stale: a lab whose owner is gone, or remains with no owner at all (a crashed teardown).
    if (o.all !== true) ids = (await Promise.all(ids.map(async (id) => ownerIsLive(await readOwner(labLayout(id))) ? -1 : id))).filter((id) => id >= 0)
  }
  let failed = 0
  for (const id of ids) {
    try {
      const r = await downLab(id)
      const left = await labLeftovers(id)
      if (left.length > 0) throw new Error(`left behind: ${left.join(', ')}`)
      err(`lab ${id} down in ${r.ms} ms (${r.terminated} nodes powered off, ${r.killed} processes killed)`)
    } catch (e) {
      failed++
      err(`lab ${id}: down failed: ${(e as Error).message}`)
    }
  }
  if (ids.length === 0) err('no lab to take down')
  return failed === 0 ? 0 : 1
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main (argv: readonly string[]): Promise<number> {
  let code = 0
  const program = new Command('lab')
    .description("keyroll's lab: real systemd nodes running minkms (test/lab)")
    .exitOverride()
    .showHelpAfterError()
  const id = ['--id <id>', `lab id, 0 to ${MAX_LAB_ID}`, intIn(0, MAX_LAB_ID), 0] as const
  const parseUpId = (v: string): number => v === 'auto' ? AUTO : intIn(0, MAX_LAB_ID)(v)
  program.command('up').description('boot node1..N (one cluster) and ext1..M (an external Key Manager)')
    .option('--nodes <n>', 'cluster nodes', intIn(1, MAX_NODES_PER_ROLE), 3)
    .option('--external <m>', 'external Key Manager nodes', intIn(0, MAX_NODES_PER_ROLE), 1)
    .option('--id <id>', `lab id, 0 to ${MAX_LAB_ID}, or "auto" for the lowest free one`, parseUpId, 0)
    .option('--agents', 'also run keyroll-agent on every cluster node (certificates from the lab CA)')
    .option('--keyroll', 'keyroll as a whole: the agents plus keyroll-coordinator on a node `coord`, with tokens (prints the KEYROLL_* exports)')
    .option('--agent-stable-for <duration>', `the agents' stability window (verify.stableFor; default ${LAB_AGENT_STABLE_FOR}, the shipped agent's is 5s)`, agentStableFor)
    .addOption(new Option('--root-identity <mode>', "the emulator's root API key: 'stored' keeps it across HSM changes, 'derived' derives it from the HSM that unsealed it at every start").choices(LAB_ROOT_IDENTITIES).default('stored'))
    .option('--json', 'print the status as JSON')
    .option('--owner-pid <pid>', 'the lab belongs to this process and is stale once it exits (tests)', intIn(1, 2 ** 22))
    .action(async (o: UpFlags) => { code = await up(o) })
  program.command('status').description('show a lab')
    .option(...id).option('--json', 'as JSON')
    .action(async (o: { id: number, json?: boolean }) => { code = await status(o) })
  program.command('down').description('remove a lab and everything it created')
    .option(...id).option('--all', 'every lab on this host').option('--stale', 'labs whose owner process is gone')
    .action(async (o: { id: number, all?: boolean, stale?: boolean }) => { code = await down(o) })
  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e
    return ['commander.helpDisplayed', 'commander.version'].includes(e.code) ? 0 : 2
  }
  return code
}

function isEntryPoint (): boolean {
  const script = process.argv[1]
  return script !== undefined && realpathSync(script) === fileURLToPath(import.meta.url)
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2))
