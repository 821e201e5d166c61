// The hints' command: what works when pasted, `npx keyroll` under npx, `keyroll` otherwise.
import t from 'tap'
import { cliName } from '../../../../coordinator/cli/cli-name.js'

t.test('npx keyroll under npx, keyroll otherwise', async (t) => {
  t.equal(cliName({ npm_command: 'exec' }), 'npx keyroll')
  t.equal(cliName({}), 'keyroll')
  t.equal(cliName({ npm_command: 'test' }), 'keyroll', 'npm test runs the CLI as keyroll')
})
