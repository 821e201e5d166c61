// Adopting a cluster's changed root API key, over the fake agents and the in-memory store: nodes
// that agree on a new identity get it adopted (asked of one agent, checked, stored), an unchanged
// cluster is left alone, disagreeing nodes or a node without a banner change nothing and say
// which, a rollback drops the adopted key, a key of another identity or one minkms refuses is not
// adopted, a configured key that still works (a SysAdmin's) is kept, one run per cluster at a
// time; nothing it answers or logs holds a key.
import t, { type Test } from 'tap'
import { pino } from 'pino'
import { FakeAgentClient } from '../../../../coordinator/agents/fake-agent-client.js'
import { RootKeyAdoption } from '../../../../coordinator/gate/root-key-adoption.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { MemoryRootKeyStore } from '../../../../coordinator/store/root-key-store.js'
import type { Logger } from '../../../../shared/logger.js'
import { generateApiKey, parseApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const OLD = generateApiKey('k1')
const NEW = generateApiKey('k1')
const OTHER = generateApiKey('k1')
const SYSADMIN = generateApiKey('k2')
const nodes: NodeRef[] = [1, 2, 3].map((i) => ({ cluster: 'c1', name: `node${i}`, agentUrl: `https://10.0.0.1${i}:7400`, minkms: `10.0.0.1${i}:7373` }))
const banner = (key: string): string => `API Key        ${key}`

interface Setup {
  agents: FakeAgentClient
  store: MemoryRootKeyStore
  adoption: RootKeyAdoption
  /** Identities minkms takes as root now (the verify double). */
  root: Set<string>
  verified: string[]
  raw: string[]
  clock: FakeClock
  audit: unknown[]
}

function setup (t: Test, opts: { configured?: string } = {}): Setup {
  const clock = new FakeClock()
  const agents = new FakeAgentClient(clock)
  for (const n of nodes) agents.addNode(n, { revision: 1 })
  t.teardown(() => { agents.assertNoPendingScripts() })
  const store = new MemoryRootKeyStore()
  const root = new Set<string>([OLD.identity])
  const verified: string[] = []
  const raw: string[] = []
  const log = pino({ level: 'trace' }, { write: (l: string) => { raw.push(l) } }) as unknown as Logger
  const audit: unknown[] = []
  const adoption = new RootKeyAdoption({
    agents,
    store,
    audit: { appendAudit: async (e) => { audit.push(e); return { ...e, seq: audit.length, prevHash: '', hash: '' } } },
    configured: () => new Secret(opts.configured ?? OLD.key),
    nodes: () => nodes,
    verify: async (via, key) => {
      const id = parseApiKey(key.reveal()).identity
      verified.push(`${via.name} ${id}`)
      if (!root.has(id)) throw new Error(`${via.name}: 403 access denied`)
    },
    clock,
    log
  })
  return { agents, store, adoption, root, verified, raw, clock, audit }
}

/** Every node restarts (a new run) and logs `key` in its banner, in clear as minkms does. */
async function restartAll (s: Setup, key: string, revision: number, only: readonly NodeRef[] = nodes): Promise<void> {
  for (const n of only) {
    s.agents.runLines.set(n.name, () => [banner(key)])
    await s.agents.apply(n, { revision, files: { env: { set: { X: String(revision) } } } })
  }
}

function noKeyIn (t: Test, s: Setup, ...things: unknown[]): void {
  const text = JSON.stringify([things, s.audit]) + s.raw.join('\n')
  for (const k of [OLD, NEW, OTHER, SYSADMIN]) t.notOk(text.includes(k.key.slice(3)), 'no key in answers or log lines')
}

t.test('every node on a new identity and the key in use refused: the new key is adopted and used', async (t) => {
  const s = setup(t)
  await restartAll(s, OLD.key, 2)
  const same = await s.adoption.adopt('c1')
  t.same(same, { cluster: 'c1', changed: false, from: OLD.identity, to: OLD.identity, seen: { node1: OLD.identity, node2: OLD.identity, node3: OLD.identity } }, 'unchanged: nothing asked')
  t.notOk(s.agents.calls.some((c) => c.op === 'rootApiKey'))
  await restartAll(s, NEW.key, 3)
  s.root.clear()
  s.root.add(NEW.identity)
  const r = await s.adoption.adopt('c1')
  t.match(r, { changed: true, from: OLD.identity, to: NEW.identity })
  t.equal(s.agents.calls.filter((c) => c.op === 'rootApiKey').length, 1, 'asked of one agent')
  t.ok((await s.store.get('c1'))?.apiKey.equals(NEW.key), 'stored')
  t.ok((await s.adoption.current('c1')).equals(NEW.key), 'used for root calls from now on')
  t.same(s.verified.slice(-1), [`node1 ${NEW.identity}`], 'checked through the node it came from')
  t.match(s.raw.join('\n'), /adopted the cluster's new root API key/)
  t.match(await s.adoption.adopt('c1'), { changed: false, from: NEW.identity, to: NEW.identity }, 'a second look changes nothing')
  t.match(s.audit, [{ actor: 'system', action: 'cluster.root-key.adopt', target: 'c1', detail: { from: OLD.identity, to: NEW.identity, via: 'node1' } }], 'audited, identities only')
  noKeyIn(t, s, r)
})

t.test('nodes that disagree, or one without a banner: nothing changes, the answer says which', async (t) => {
  const s = setup(t)
  await restartAll(s, OLD.key, 2)
  await restartAll(s, NEW.key, 3, [nodes[0] as NodeRef])
  s.root.clear()
  s.root.add(NEW.identity)
  const r = await s.adoption.adopt('c1')
  t.match(r, { changed: false, from: OLD.identity, to: OLD.identity, reason: /the nodes disagree on their root identity \(node1 h1:.{8}…, node2 h1:.{8}…, node3/, seen: { node1: NEW.identity, node2: OLD.identity } })
  s.agents.runLines.set('node2', () => [])
  await s.agents.apply(nodes[1] as NodeRef, { revision: 3, files: { env: { set: { X: '3' } } } })
  t.match(await s.adoption.adopt('c1'), { changed: false, reason: /no root identity from node2 \(its current run has logged no API Key banner line yet\)/, seen: { node2: null } })
  s.agents.script(nodes[2] as NodeRef, 'status', { fail: 'unreachable' })
  t.match(await s.adoption.adopt('c1'), { changed: false, reason: /node3 \(the agent of node node3 is unreachable/ })
  t.notOk(s.agents.calls.some((c) => c.op === 'rootApiKey'), 'no key was asked for')
  t.equal(await s.store.get('c1'), undefined)
})

t.test('a rollback onto the configured key drops the adopted one', async (t) => {
  const s = setup(t)
  await restartAll(s, NEW.key, 2)
  s.root.clear()
  s.root.add(NEW.identity)
  t.match(await s.adoption.adopt('c1'), { changed: true, to: NEW.identity })
  await restartAll(s, OLD.key, 3)
  s.root.clear()
  s.root.add(OLD.identity)
  const r = await s.adoption.adopt('c1')
  t.match(r, { changed: true, from: NEW.identity, to: OLD.identity })
  t.equal(await s.store.get('c1'), undefined, 'dropped')
  t.match(s.audit.at(-1), { action: 'cluster.root-key.drop', detail: { from: NEW.identity, to: OLD.identity } })
  t.ok((await s.adoption.current('c1')).equals(OLD.key), 'the configured key again')
})

t.test('a key of another identity than the banners show, or one minkms refuses, is not adopted', async (t) => {
  const s = setup(t)
  // The banners show NEW in its safe form only; the agents answer OTHER.
  for (const n of nodes) s.agents.runLines.set(n.name, () => [`API Key        k1:*** (${NEW.identity})`])
  for (const n of nodes) {
    await s.agents.apply(n, { revision: 2, files: { env: { set: { X: '2' } } } })
    s.agents.rootKeys.set(n.name, OTHER.key)
  }
  s.root.clear()
  s.root.add(NEW.identity)
  s.root.add(OTHER.identity)
  const r = await s.adoption.adopt('c1')
  t.match(r, { changed: false, reason: /every node shows the root identity h1:.{8}…, but its key could not be adopted: node1 answered a key of identity .* not the .* every banner shows; node2 .*; node3/ })
  t.equal(await s.store.get('c1'), undefined)
  s.root.delete(NEW.identity)
  for (const n of nodes) s.agents.rootKeys.set(n.name, NEW.key)
  s.root.clear()
  const refused = await s.adoption.adopt('c1')
  t.match(refused, { changed: false, reason: /node1: node1: 403 access denied/ }, 'a key minkms does not take as root is not adopted')
  t.equal(await s.store.get('c1'), undefined)
  noKeyIn(t, s, r, refused)
})

t.test('a configured key that still works (a SysAdmin identity\'s) is kept; nothing is fetched', async (t) => {
  const s = setup(t, { configured: SYSADMIN.key })
  s.root.add(SYSADMIN.identity)
  await restartAll(s, NEW.key, 2)
  const r = await s.adoption.adopt('c1')
  t.same(r, { cluster: 'c1', changed: false, from: SYSADMIN.identity, to: SYSADMIN.identity, seen: { node1: NEW.identity, node2: NEW.identity, node3: NEW.identity } })
  t.notOk(s.agents.calls.some((c) => c.op === 'rootApiKey'))
  // An adopted key that stops working while the configured one works: back to the configured.
  await s.store.adopt('c1', OTHER.identity, new Secret(OTHER.key), 1)
  t.match(await s.adoption.adopt('c1'), { changed: true, from: OTHER.identity, to: SYSADMIN.identity })
  t.equal(await s.store.get('c1'), undefined)
})

t.test('one run per cluster at a time; refused() asks again only after a quiet time', async (t) => {
  const s = setup(t)
  await restartAll(s, NEW.key, 2)
  s.root.clear()
  s.root.add(NEW.identity)
  const before = s.agents.calls.length
  const [a, b] = await Promise.all([s.adoption.adopt('c1'), s.adoption.adopt('c1')])
  t.same(a, b)
  t.equal(s.agents.calls.slice(before).filter((c) => c.op === 'status').length, 3, 'the nodes were asked once')
  t.equal(await s.adoption.refused('c1'), false, 'nothing new: the key in use is the new one')
  const calls = s.agents.calls.length
  t.equal(await s.adoption.refused('c1'), false, 'within the quiet time')
  t.equal(s.agents.calls.length, calls, 'not asked again')
  await s.clock.advance(2500)
  await restartAll(s, OTHER.key, 3)
  s.root.clear()
  s.root.add(OTHER.identity)
  t.equal(await s.adoption.refused('c1'), true, 'after the quiet time a refusal adopts the newer key')
  t.ok((await s.adoption.current('c1')).equals(OTHER.key))
})
