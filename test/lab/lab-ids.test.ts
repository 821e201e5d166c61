// Lab tier: who may take a lab id (real /var/tmp/keyroll-lab, so root; no nodes are booted).
import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import { processRunner } from '../../shared/process-runner.js'
import { downLab } from './lab-down.js'
import { claimLabId, readOwner, staleDirs } from './lab-ids.js'
import { labLayout } from './lab-paths.js'
import { labLeftovers } from './lab-status.js'
import { processRef } from './procfs.js'
import { labSkip } from './start-lab.js'

// High, so tests allocating from 1 upward do not meet it.
const ID = 253

t.test('a dead test owner makes a lab stale; CLI labs are taken over only by the CLI', { skip: labSkip }, async (t) => {
  const layout = labLayout(ID)
  t.teardown(async () => { await downLab(ID) })
  await downLab(ID)

  // A lab left by a test process that has exited.
  const gone = processRunner.spawn('true', [], { stdout: 'ignore', stderr: 'ignore' })
  const ref = processRef(gone.pid)
  await gone.exited
  await mkdir(layout.base, { recursive: true })
  await writeFile(layout.ownerFile, JSON.stringify({ kind: 'test', pid: gone.pid, startTime: ref?.startTime ?? 0, createdAt: '' }))

  t.ok(await claimLabId(ID, 'test'), 'the stale id is claimed')
  t.match(await readOwner(layout), { kind: 'test', pid: process.pid }, 'now owned by this process')
  t.equal((await staleDirs(ID)).length, 1, 'the stale lab was moved aside for up/down to clear')
  t.notOk(await claimLabId(ID, 'test'), 'a live owner keeps its id')
  t.notOk(await claimLabId(ID, 'cli', { takeOver: true }), 'the CLI does not take a running test\'s lab')

  await downLab(ID)
  t.ok(await claimLabId(ID, 'cli'), 'a CLI lab')
  t.notOk(await claimLabId(ID, 'test'), 'is not stale for tests, whatever its process does')
  t.ok(await claimLabId(ID, 'cli', { takeOver: true }), 'the CLI replaces its own lab')
  await downLab(ID)
  t.same(await labLeftovers(ID), [], 'down removed the stale lab too')
})
