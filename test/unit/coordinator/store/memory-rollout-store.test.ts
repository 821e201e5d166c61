// The in-memory RolloutStore keeps the whole contract (store-conformance.ts).
import t from 'tap'
import { MemoryRolloutStore } from '../../../../coordinator/store/memory-rollout-store.js'
import { storeConformance } from './store-conformance.js'

storeConformance(t, async (t) => {
  const s = new MemoryRolloutStore()
  t.teardown(() => s.close())
  return s
})
