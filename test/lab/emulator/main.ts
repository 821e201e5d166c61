// Entry point of the emulated `minkms` binary (compiled to dist/test/lab/emulator/main.js and run
// by /opt/minkms/bin/minkms in the lab's minkms.service). It reads argv and the environment,
// runs the command, and maps the outcome to exit codes: 0 after a clean stop, 1 after a FATAL
// line, 2 for bad usage or a `crash-after` fault.
import { parseCli, USAGE } from './cli.js'
import { startEmulator, type RunningEmulator } from './emulator.js'
import { DEFAULT_FAULTS_DIR } from './faults.js'
import { FatalError, describeError } from './fatal-error.js'
import { generateHsmKey } from './hsm-key.js'
import { identityCommand } from './identity-command.js'
import { parseRootIdentityMode, ROOT_IDENTITY_ENV } from './root-identity.js'
import { EmulatorLog } from './log.js'
import { softHsmText } from './soft-hsm-text.js'
import { versionText } from './version.js'

async function runServer (cmd: Extract<ReturnType<typeof parseCli>, { kind: 'server' }>): Promise<number> {
  const log = new EmulatorLog()
  const abort = new AbortController()
  let running: RunningEmulator | undefined
  let stopSignal: string | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal !== undefined) return
    stopSignal = signal
    if (running === undefined) {
      log.info(`Received ${signal} during start-up; stopping.`)
      abort.abort(new Error(signal))
      // The unit has SendSIGKILL=no: never hang. Data-dir writes are atomic, so exiting is safe.
      setTimeout(() => process.exit(0), 5000).unref()
    } else {
      running.close(`received ${signal}`).catch(() => {})
    }
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    const mode = parseRootIdentityMode(process.env[ROOT_IDENTITY_ENV])
    if (!mode.ok) throw new FatalError(`kms: ${mode.reason}`)
    running = await startEmulator({
      dataDir: cmd.dataDir,
      address: cmd.address,
      ...(cmd.host !== undefined && { host: cmd.host }),
      ...(cmd.config !== undefined && { configPath: cmd.config }),
      ...(process.env.MINIO_KMS_HSM_KEY !== undefined && { hsmKey: process.env.MINIO_KMS_HSM_KEY }),
      faultsDir: process.env.MINKMS_EMU_FAULTS_DIR ?? DEFAULT_FAULTS_DIR,
      rootIdentity: mode.mode,
      log,
      signal: abort.signal
    })
  } catch (err) {
    if (abort.signal.aborted) return 0
    log.fatal(err instanceof FatalError ? err.message : `kms: ${describeError(err)}`)
    return 1
  }
  // A signal that arrived while start-up was finishing.
  if (stopSignal !== undefined) running.close(`received ${stopSignal}`).catch(() => {})
  return await running.exited
}

async function main (argv: readonly string[]): Promise<number> {
  const cmd = parseCli(argv)
  switch (cmd.kind) {
    case 'usage-error':
      process.stderr.write(`${cmd.message}\n\n${USAGE}\n`)
      return 2
    case 'help':
      process.stdout.write(`${USAGE}\n`)
      return 0
    case 'version':
      process.stdout.write(`${versionText()}\n`)
      return 0
    case 'soft-hsm':
      process.stdout.write(softHsmText(generateHsmKey()))
      return 0
    case 'identity': {
      const out = await identityCommand(cmd.arg)
      if (out.ok) { process.stdout.write(out.stdout); return 0 }
      process.stderr.write(out.stderr)
      return 2
    }
    case 'server':
      return await runServer(cmd)
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
  // Lingering handles (a peer call in flight) must not keep a stopped server alive.
  if (code !== 0 || process.argv[2] === 'server') setImmediate(() => process.exit(code))
}, (err: unknown) => {
  process.stderr.write(`minkms: ${describeError(err)}\n`)
  process.exit(1)
})
