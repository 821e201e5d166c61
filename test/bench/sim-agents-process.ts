// The simulated agents (sim-agents.ts) in a process of their own, so that the TLS work of a
// thousand agents does not share an event loop with the benchmark's clients that time the
// coordinator. Run as a program it reads its spec file (argv[2]) and prints the ports as one JSON
// line; `startSimAgentsProcess` spawns it and reads that line.
import { readFile, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { processRunner } from '../../shared/process-runner.js'
import { startSimAgents } from './sim-agents.js'

/** What the process serves: node names and the PEM files of the agents' TLS. */
export interface SimSpec { nodes: string[], cert: string, key: string, clientCa: string }

/** The running process: each node's port, and how to stop it. */
export interface SimProcess { ports: Map<string, number>, pid: number, stop (): Promise<void> }

/** Spawns the simulated agents; `specFile` is where their spec is written. */
export async function startSimAgentsProcess (spec: SimSpec, specFile: string): Promise<SimProcess> {
  await writeFile(specFile, JSON.stringify(spec))
  const child = processRunner.spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), specFile], { stderr: 2 })
  let exitCode: number | null | undefined
  const exited = child.exited.then((e) => { exitCode = e.code })
  if (child.stdout === null) throw new Error('the simulated agents have no stdout')
  const lines = createInterface({ input: child.stdout })
  const first = await Promise.race([
    new Promise<string>((resolve) => { lines.once('line', resolve) }),
    exited.then(() => undefined)
  ])
  if (first === undefined) throw new Error(`the simulated agents exited ${String(exitCode)} before listening`)
  const ports = new Map(JSON.parse(first) as Array<[string, number]>)
  return {
    ports,
    pid: child.pid,
    stop: async () => {
      if (exitCode === undefined) child.kill('SIGTERM')
      await exited
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(await readFile(process.argv[2] ?? '', 'utf8')) as SimSpec
  const sim = await startSimAgents(spec.nodes, { cert: await readFile(spec.cert), key: await readFile(spec.key), clientCa: await readFile(spec.clientCa) })
  process.stdout.write(JSON.stringify([...sim.ports]) + '\n')
  process.on('SIGTERM', () => { sim.close().finally(() => process.exit(0)).catch(() => {}) })
}
