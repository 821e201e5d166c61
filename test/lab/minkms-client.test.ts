// Lab tier: keyroll's minkms client against the external Key Manager node (real TLS, real
// systemd), doing what the HSM workflow's provisioning step will do.
import t from 'tap'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { EnclaveExistsError, MinkmsUnreachableError, PermissionDeniedError } from '../../shared/minkms/errors.js'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { LabCa } from './lab-ca.js'
import { labSkip, startLab } from './start-lab.js'

t.test('the client provisions and uses the external Key Manager', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 1, external: 1 })
  const ext = lab.node('ext1')
  const endpoint = `${ext.address}:${ext.port}`
  const client = (apiKey: string, ca = lab.ca.pem): ReturnType<typeof createMinkmsClient> => {
    const c = createMinkmsClient({ endpoints: [endpoint], apiKey, ca, timeoutMs: 5000 })
    t.teardown(async () => { await c.close() })
    return c
  }
  const root = client(lab.rootKey('external'))

  t.equal((await root.version()).host, endpoint, '/version names the node')
  t.equal(await root.ready(), true, 'ready')

  await root.createEnclave('tenant-a')
  t.equal((await root.enclaveStatus('tenant-a')).name, 'tenant-a', 'the enclave exists')
  await t.rejects(root.createEnclave('tenant-a'), EnclaveExistsError, 'a duplicate enclave: 409')
  await t.rejects(root.createEnclave('tenant-a'), { statusCode: 409, message: /enclave already exists/ }, 'with the exact text')

  const admin = generateApiKey() // made locally; only its identity goes to the server
  await root.createIdentity('tenant-a', { identity: admin.identity, privilege: 'Admin' })
  t.equal((await root.identityStatus('tenant-a', admin.identity)).privilege, 'Admin', 'the admin identity is registered')

  const asAdmin = client(admin.key)
  await asAdmin.createKey('tenant-a', 'seal-key')
  t.equal((await asAdmin.keyStatus('tenant-a', 'seal-key')).type, 'AES256', 'the key exists')
  const plaintext = new TextEncoder().encode('root encryption key material')
  const ad = new TextEncoder().encode('rek')
  const sealed = await asAdmin.encrypt('tenant-a', 'seal-key', plaintext, { associatedData: ad })
  t.not(Buffer.from(sealed.ciphertext).toString(), Buffer.from(plaintext).toString(), 'the ciphertext is not the plaintext')
  const opened = await asAdmin.decrypt('tenant-a', 'seal-key', sealed.ciphertext, { version: sealed.version, associatedData: ad })
  t.same(Buffer.from(opened), Buffer.from(plaintext), 'encrypt then decrypt round-trips with the new identity')

  const nobody = generateApiKey() // never registered
  await t.rejects(client(nobody.key).encrypt('tenant-a', 'seal-key', plaintext), PermissionDeniedError, 'an unknown identity: 403')
  const user = generateApiKey()
  await root.createIdentity('tenant-a', { identity: user.identity, privilege: 'User' })
  await t.rejects(client(user.key).createKey('tenant-a', 'other'),
    { statusCode: 403, message: /access denied: insufficient permissions/ }, 'a user without a policy: 403')
  await t.rejects(asAdmin.createEnclave('tenant-b'), PermissionDeniedError, 'an enclave admin cannot create enclaves')

  const stranger = await LabCa.create('not the lab CA')
  await t.rejects(client(lab.rootKey('external'), stranger.certPem).version(), MinkmsUnreachableError, 'a wrong CA: the TLS handshake fails')
})
