// After phase B the migration looks at the cluster's root API key: when every node came back with
// a new one (minkms deriving it from the HSM) and the configured key no longer works, the
// coordinator adopts it, a `root-key` event names both identities and how to get the key, and no
// event, view or audit entry holds a key; when nothing changed, there is no such event.
import t from 'tap'
import { RootKeyAdoption } from '../../../../coordinator/gate/root-key-adoption.js'
import { MemoryRootKeyStore } from '../../../../coordinator/store/root-key-store.js'
import { generateApiKey, parseApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'
import { ended, harness, sealEverywhere } from './harness.js'

const OLD = generateApiKey('k1')
const NEW = generateApiKey('k1')

function derivedWorld (opts: { changes: boolean }): { store: MemoryRootKeyStore, make: Parameters<typeof harness>[1] } {
  const store = new MemoryRootKeyStore()
  let phaseB = false
  return {
    store,
    make: {
      rootKeys: (agents, clock) => {
        // Each run logs the key of the HSM it unsealed with: OLD until phase B's change is on it.
        for (const name of ['node1', 'node2', 'node3']) {
          let runs = 0
          agents.runLines.set(name, () => {
            runs++
            if (runs >= 2 && opts.changes) phaseB = true
            return [`API Key        ${runs >= 2 && opts.changes ? NEW.key : OLD.key}`]
          })
        }
        return new RootKeyAdoption({
          agents,
          store,
          configured: () => new Secret(OLD.key),
          nodes: (cluster) => ['node1', 'node2', 'node3'].map((n, i) => ({ cluster, name: n, agentUrl: `https://10.0.0.${i + 1}:7480`, minkms: `10.0.0.${i + 1}:7373` })),
          verify: async (_via, key) => {
            const root = phaseB ? NEW.identity : OLD.identity
            if (parseApiKey(key.reveal()).identity !== root) throw new Error('403 access denied')
          },
          clock
        })
      }
    }
  }
}

t.test('phase B changed the root key: adopted, an event with both identities, no key anywhere', async (t) => {
  const world = derivedWorld({ changes: true })
  const h = harness(t, world.make)
  sealEverywhere(h)
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded')
  const events = await h.hsm.events(id)
  const e = events.find((x) => x.type === 'root-key')
  t.match(e, {
    type: 'root-key',
    phase: 'B',
    message: new RegExp(`^the cluster's root API key changed \\(${OLD.identity.slice(0, 11)}… → ${NEW.identity.slice(0, 11)}…\\); the coordinator keeps it sealed .*keyroll cluster root-key c1 --out FILE`),
    data: { from: OLD.identity, to: NEW.identity }
  })
  t.ok((await world.store.get('c1'))?.apiKey.equals(NEW.key), 'adopted')
  const everything = JSON.stringify({ events, m, audit: await h.rollouts.audit() })
  for (const k of [OLD, NEW]) t.notOk(everything.includes(k.key.slice(3)), 'no key in events, the view or the audit log')
})

t.test('the root key did not change: no root-key event, nothing adopted', async (t) => {
  const world = derivedWorld({ changes: false })
  const h = harness(t, world.make)
  sealEverywhere(h)
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'succeeded')
  t.notOk((await h.hsm.events(m.id)).some((x) => x.type === 'root-key'))
  t.equal(await world.store.get('c1'), undefined)
})
