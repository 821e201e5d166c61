// The agent's box keeps what it was before the box moved to shared/: agent.key, AGT_STATE_SEALED,
// and the same derived keys (stored diff fingerprints stay valid across the upgrade).
import t from 'tap'
import { createHmac, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { SealedBox } from '../../../../agent/state/sealed-box.js'
import { SealedBox as SharedSealedBox } from '../../../../shared/secrets/sealed-box.js'

t.test('agent.key in the state dir', async t => {
  const dir = t.testdir({})
  const box = await SealedBox.open(dir)
  t.ok(box instanceof SharedSealedBox)
  t.ok(existsSync(join(dir, 'agent.key')))
  t.equal((await SealedBox.open(dir)).unsealText(box.sealText('x')), 'x')
})

t.test('AGT_STATE_SEALED for content it cannot open', async t => {
  const sealed = SealedBox.withKey(randomBytes(32)).seal('x')
  t.throws(() => SealedBox.withKey(randomBytes(32)).unseal(sealed, 'the accepted change'), {
    code: 'AGT_STATE_SEALED', statusCode: 500, message: /the accepted change.*another agent key/
  })
})

t.test('derived keys are those of earlier versions', async t => {
  const key = randomBytes(32)
  const before = createHmac('sha256', key).update('keyroll-agent:fingerprint').digest()
  t.same(SealedBox.withKey(key).derive('fingerprint'), before)
})
