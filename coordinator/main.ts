#!/usr/bin/env node
// keyroll-coordinator's entry point (systemd runs `node /opt/keyroll/dist/coordinator/main.js
// serve --config /etc/keyroll/coordinator.yaml`). runCoordinator parses the command line so tests
// can run it with their own parts; the process entry below hands it the real composition root.
import { Command, CommanderError } from 'commander'
import { pathToFileURL } from 'node:url'
import * as root from './deps.js'
import type { CreateCoordinatorParts } from './deps.js'
import { EXIT, serve, type ServeDeps, type ServeIo, type ServeOptions } from './serve.js'

/** Runs `keyroll-coordinator <argv>`; resolves with the exit code. */
export async function runCoordinator (argv: readonly string[], io: ServeIo, deps: ServeDeps): Promise<number> {
  let result: Promise<number> = Promise.resolve(EXIT.ok)
  const program = new Command('keyroll-coordinator')
    .description('rolls config changes over minkms clusters one node at a time (docs/coordinator.md)')
    .exitOverride()
    .configureOutput({ writeOut: s => io.stdout.write(s), writeErr: s => io.stderr.write(s) })
  program.command('serve')
    .description('run the daemon: the HTTP API and the rollout engine')
    .option('--config <file>', 'config file (default /etc/keyroll/coordinator.yaml, or $KEYROLL_COORDINATOR_CONFIG)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--listen-host <host>', 'address to listen on')
    .option('--listen-port <port>', 'TCP port')
    .action((o: ServeOptions) => { result = serve(o, io, deps) })
  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.badInput
    throw err
  }
  return await result
}

// The process entry: only when run as a program, not when a test imports this module.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const createParts = (root as { createCoordinatorParts?: CreateCoordinatorParts }).createCoordinatorParts
  if (createParts === undefined) {
    process.stderr.write('keyroll-coordinator: this build has no composition root (coordinator/deps.ts exports no createCoordinatorParts)\n')
    process.exitCode = EXIT.failed
  } else {
    process.exitCode = await runCoordinator(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, { createParts })
  }
}
