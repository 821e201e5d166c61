// `keyroll-agent reset-revisions --yes`: the documented way out of a revision history that blocks
// every change (a revision accepted earlier that is far ahead of anything the coordinator or an
// operator will send, so every apply is stale and every rollback conflicts). It forgets the
// applied and desired revisions under the node's apply lock; the managed files, their backups and
// the unit are left exactly as they are. The next apply of any revision is accepted and becomes
// the new history. Refused while a change runs or an interrupted one is on disk (recover first).
import { ApplyLock } from '../apply/apply-lock.js'
import { AgentStateStore } from '../state/agent-state.js'
import { SealedBox } from '../state/sealed-box.js'
import { loadConfig, reportError, type CommonOptions } from './command.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'

/** Runs the command; resolves with the exit code. */
export async function resetRevisions (o: CommonOptions & { yes?: boolean }, io: CliIo, deps: CliDeps): Promise<number> {
  if (o.yes !== true) {
    io.stderr.write('error: reset-revisions forgets the applied and desired revisions (files are not touched); run it again with --yes to confirm\n')
    return EXIT.badInput
  }
  try {
    const config = await loadConfig(o, deps)
    const state = new AgentStateStore(config.stateDir, await SealedBox.open(config.stateDir))
    await state.init()
    const lock = new ApplyLock(config.stateDir)
    await lock.acquire()
    try {
      const pending = await state.readPending()
      if (pending !== undefined) {
        io.stderr.write(`error: an interrupted ${pending.kind} of revision ${pending.revision} is on disk; run keyroll-agent recover first\n`)
        return EXIT.badInput
      }
      const applied = await state.readApplied()
      const desired = await state.readDesired().catch(() => undefined)
      await state.forgetRevisions()
      io.stdout.write(`${config.node}: forgot applied revision ${applied?.revision ?? 'none'} and desired revision ${desired?.record.revision ?? 'none'}; ` +
        'files, backups and the unit are unchanged; the next apply of any revision is accepted\n')
      return EXIT.ok
    } finally {
      await lock.release()
    }
  } catch (err) {
    return reportError(io, err)
  }
}
