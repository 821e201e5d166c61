// migrationReport: a pure function of the migration's view, matching HsmMigrationReportSchema:
// the result (aborted counts as failed), the duration to finishedAt (or the last update), per node
// the restarts of both phases summed and each phase's verdict reason, gate and timing.
import t from 'tap'
import { Value } from 'typebox/value'
import { migrationReport } from '../../../../coordinator/cli/migration-report.js'
import { HsmMigrationReportSchema, type HsmMigration } from '../../../../shared/schemas/hsm-migration.js'
import { phase } from './hsm-fixtures.js'

const AT = Date.UTC(2026, 11, 2, 10, 0, 0)

function migration (over: Partial<HsmMigration> = {}): HsmMigration {
  return {
    id: 'm7',
    cluster: 'c1',
    external: ['kms0:7373'],
    enclave: 'e',
    key: 'k',
    keepLocalHsm: false,
    replaceHsm: false,
    removeLocalSealedCopy: false,
    state: 'succeeded',
    phase: 'done',
    createdBy: 'bob',
    createdAt: AT,
    updatedAt: AT + 50_000,
    finishedAt: AT + 42_000,
    warnings: [],
    rollouts: { A: 'r1', B: 'r2' },
    nodes: [
      { name: 'node1', phases: { A: phase(true, AT, true), B: phase(true, AT + 20_000) } },
      { name: 'node2', phases: { A: { state: 'skipped', restarts: 0 } } }
    ],
    ...over
  }
}

t.test('a finished migration', async t => {
  const r = migrationReport(migration({ message: 'done' }))
  t.ok(Value.Check(HsmMigrationReportSchema, r), 'matches the schema')
  t.same(r, {
    id: 'm7',
    result: 'succeeded',
    durationMs: 42_000,
    message: 'done',
    nodes: [
      { name: 'node1', restarts: 2, phases: { A: { verdict: 'ready', gate: phase(true, AT, true).gate, restartToVerdictMs: 2500 }, B: { verdict: 'ready', gate: phase(true, AT).gate, restartToVerdictMs: 2500 } } },
      { name: 'node2', restarts: 0, phases: { A: {} } }
    ]
  })
})

t.test('aborted and failed are failed; unfinished runs to the last update', async t => {
  t.equal(migrationReport(migration({ state: 'aborted' })).result, 'failed')
  t.equal(migrationReport(migration({ state: 'failed' })).result, 'failed')
  const { finishedAt: _f, ...running } = migration({ state: 'running' })
  t.equal(migrationReport(running).durationMs, 50_000)
  t.notOk('message' in migrationReport(migration()), 'no message key when the migration has none')
})

t.test('an all-at-once phase B: its mode and its write-outage window in the report', async t => {
  const r = migrationReport(migration({ phaseB: 'all-at-once', writeOutage: { ms: 2340, from: AT + 10_000, to: AT + 12_340, rolledBack: false } }))
  t.ok(Value.Check(HsmMigrationReportSchema, r), 'matches the schema')
  t.equal(r.phaseB, 'all-at-once')
  t.equal(r.writeOutageMs, 2340)
  t.notOk('writeOutageMs' in migrationReport(migration()), 'no window for a rolling phase B')
})
