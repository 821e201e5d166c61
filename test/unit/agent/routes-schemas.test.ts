// The wire schemas (shared/schemas) and the TypeScript types the core is written against
// (agent/core.ts, agent/verify/verdict.ts, agent/os/*) must not drift apart. The checks are
// compile-time: `tsc --noEmit` (and tap's typecheck) fail when a field is added, removed or
// retyped on one side only. Where a type is identical both ways it can replace the other.
import t from 'tap'
import type * as Core from '../../../agent/core.js'
import type { JournalEntry as PortJournalEntry } from '../../../agent/os/journal.js'
import type { UnitStatus as PortUnitStatus } from '../../../agent/os/service-manager.js'
import type { Verdict as PortVerdict } from '../../../agent/verify/verdict.js'
import type { AgentStatus, Check, DriftEntry } from '../../../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyOutcome, ApplyResult, ApplyStep, FilePlan, PlanResult } from '../../../shared/schemas/apply.js'
import type { JournalEntry } from '../../../shared/schemas/journal.js'
import type { UnitStatus } from '../../../shared/schemas/unit-status.js'
import type { Verdict } from '../../../shared/schemas/verdict.js'
import type { Wire } from '../../../shared/schemas/wire.js'

type Is<A, B> = [A] extends [B] ? true : false
type Same<A, B> = [Is<A, B>, Is<B, A>] extends [true, true] ? true : false

// Identical in both directions.
const same: [
  Same<Core.ApplyOutcome, ApplyOutcome>,
  Same<Core.ApplyStep, ApplyStep>,
  Same<Core.ApplyEvent, ApplyEvent>,
  Same<Core.FilePlan, FilePlan>,
  Same<Core.PlanResult, PlanResult>,
  Same<Core.DriftEntry, DriftEntry>,
  Same<Core.Check, Check>,
  Same<PortUnitStatus, UnitStatus>,
  Same<Wire<PortJournalEntry>, JournalEntry>
] = [true, true, true, true, true, true, true, true, true]

// What the core produces fits the wire (JSON drops `undefined`-valued keys).
const fits: [
  Is<Wire<PortVerdict>, Verdict>,
  Is<Wire<Core.ApplyResult>, ApplyResult>,
  Is<Wire<Core.AgentStatus>, AgentStatus>
] = [true, true, true]

t.test('core types and wire schemas agree (checked by the compiler)', async t => {
  t.ok(same.every(Boolean))
  t.ok(fits.every(Boolean))
})
