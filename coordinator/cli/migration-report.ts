// The report of a finished HSM migration (HsmMigrationReportSchema): what `keyroll hsm migrate
// --report FILE` and `npm run demo --report FILE` write. A pure function of the migration's view,
// so the demo, the CLI and the tests compute the same report from the same GET answer. Aborted
// counts as failed: the job was not done.
import type { HsmMigration, HsmMigrationReport, HsmNodePhase } from '../../shared/schemas/hsm-migration.js'

type PhaseReport = NonNullable<HsmMigrationReport['nodes'][number]['phases']['A']>

function phaseReport (p: HsmNodePhase | undefined): PhaseReport | undefined {
  if (p === undefined) return undefined
  return {
    ...(p.verdict === undefined ? {} : { verdict: p.verdict.reason }),
    ...(p.gate === undefined ? {} : { gate: p.gate }),
    ...(p.restartToVerdictMs === undefined ? {} : { restartToVerdictMs: p.restartToVerdictMs })
  }
}

/** The report of `m` (finished or not: the duration runs to its last update then). */
export function migrationReport (m: HsmMigration): HsmMigrationReport {
  return {
    id: m.id,
    result: m.state === 'succeeded' ? 'succeeded' : 'failed',
    durationMs: Math.max(0, (m.finishedAt ?? m.updatedAt) - m.createdAt),
    ...(m.message === undefined ? {} : { message: m.message }),
    ...(m.phaseB === undefined ? {} : { phaseB: m.phaseB }),
    ...(m.writeOutage === undefined ? {} : { writeOutageMs: m.writeOutage.ms }),
    nodes: m.nodes.map(n => {
      const a = phaseReport(n.phases.A)
      const b = phaseReport(n.phases.B)
      return {
        name: n.name,
        restarts: (n.phases.A?.restarts ?? 0) + (n.phases.B?.restarts ?? 0),
        phases: { ...(a === undefined ? {} : { A: a }), ...(b === undefined ? {} : { B: b }) }
      }
    })
  }
}
