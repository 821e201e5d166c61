// Child process of the crash test: applies revision after revision to real files in DIR (a
// config and an env file, each carrying the revision as a marker) until it is killed, printing
// every apply event as one JSON line so the parent can kill it at a chosen point.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { ApplyLock } from '../../agent/apply/apply-lock.js'
import { ChangeApplier } from '../../agent/apply/change-applier.js'
import { FakeServiceManager } from '../../agent/os/fake-service-manager.js'
import { FsFileStore } from '../../agent/os/fs-file-store.js'
import { AgentStateStore } from '../../agent/state/agent-state.js'
import { SealedBox } from '../../agent/state/sealed-box.js'
import { systemClock } from '../../shared/clock.js'
import type { Log } from '../../agent/apply/transaction.js'
import { ScriptedVerifier, silentLog } from './applier-fixture.js'
import { validateChange } from '../../shared/change/validate-change.js'
import type { Change } from '../../shared/change/change.js'

/** The API key every marker change writes into the config (the secret the crash test greps for). */
export const SECRET = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'

/** Revision r sets the marker r in both files. */
export function markerChange (r: number): Change {
  return validateChange(markerSpec(r))
}

function markerSpec (r: number): unknown {
  return {
    revision: r,
    files: {
      config: { set: { 'hsm.minio.minkms': { server: [`10.0.0.${r % 250 + 1}:7373`], enclave: `rev-${r}`, key: 'k', auth: { key: { $secret: SECRET } } } } },
      env: { set: { KEYROLL_TEST_REVISION: String(r) } }
    },
    verify: { deadline: '5s', stableFor: '0s' }
  }
}

/** An applier over real files and state in `dir`. */
export async function crashApplier (dir: string, log: Log = silentLog) {
  const box = await SealedBox.open(join(dir, 'state'))
  const state = new AgentStateStore(join(dir, 'state'), box)
  await state.init()
  const service = new FakeServiceManager()
  const applier = new ChangeApplier({
    store: new FsFileStore(),
    state,
    service,
    verifier: new ScriptedVerifier(service),
    clock: systemClock,
    log,
    lock: new ApplyLock(join(dir, 'state'))
  }, { files: { config: join(dir, 'config.yaml'), env: join(dir, 'minkms.env') }, fingerprintKey: randomBytes(32), keep: 3, verify: { deadlineMs: 5000, stableForMs: 0 } })
  return { applier, state }
}

if (/(?:^|[/\\])crash-child\.[jt]s$/.test(process.argv[1] ?? '')) {
  const dir = process.argv[2]
  if (dir === undefined) throw new Error('usage: crash-child.ts DIR')
  const { applier, state } = await crashApplier(dir)
  await applier.recover()
  let r = (await state.readApplied())?.revision ?? 0
  for (;;) {
    r++
    await applier.apply(markerChange(r), { onEvent: (e) => { process.stdout.write(JSON.stringify({ r, step: e.step, status: e.status }) + '\n') } })
  }
}
