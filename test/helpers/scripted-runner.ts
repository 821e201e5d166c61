// A FakeProcessRunner bound to a tap test: when the test ends, every scripted answer must have
// been used, else the test fails with the list of unused scripts. Unused scripts are either a
// command the code was expected to run and did not, or setup nobody needs.
import { FakeProcessRunner } from '../../shared/fake-process-runner.js'

/** The part of a tap test this needs. */
interface TeardownHost { teardown: (fn: () => unknown) => void }

/** A FakeProcessRunner whose pending scripts fail `t` at its teardown. */
export function scriptedRunner (t: TeardownHost): FakeProcessRunner {
  const runner = new FakeProcessRunner()
  t.teardown(() => { runner.assertNoPendingScripts() })
  return runner
}
