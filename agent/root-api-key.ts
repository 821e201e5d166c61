// The root API key of the node's current minkms run, read from its start-up banner: minkms logs
// it as `API Key k1:…` (the operator's documented way to find it is
// `journalctl -u minkms -g "API Key"`). If minkms derives that key from the HSM it unsealed with,
// a restart without the local HSM changes it, and the coordinator, whose root calls use the old
// one, must learn the new one from here (POST /v1/root-api-key, agent/routes/root-api-key.ts).
//
// Only the current run counts (its InvocationID from systemd): a banner of an earlier run names
// a key that may no longer be the node's. The journal is read through the agent's Journal port,
// the newest ROOT_KEY_JOURNAL_TAIL entries of the unit; the banner is among a run's first lines, so
// a run that has logged more than that since it started is answered "not logged" and says so.
import type { AgentCore } from './core.js'
import { RootKeyNotLoggedError } from './errors.js'
import { rootApiKeyOfLine } from '../shared/minkms/journal-lines.js'
import { parseApiKey } from '../shared/minkms/keys.js'
import { Secret } from '../shared/secrets/secret.js'

/** Newest journal entries of the unit searched for the current run's banner. */
export const ROOT_KEY_JOURNAL_TAIL = 5000

/** The current run's root API key, its identity and the run. */
export interface CurrentRootApiKey {
  invocationId: string
  identity: string
  apiKey: Secret
}

/** Reads the key, or throws RootKeyNotLoggedError (404) saying why there is none. */
export async function currentRootApiKey (core: Pick<AgentCore, 'status' | 'journal' | 'unit'>): Promise<CurrentRootApiKey> {
  const unit = (await core.status()).unit.status
  if (unit === undefined || unit.invocationId === '' || unit.activeState !== 'active') {
    throw new RootKeyNotLoggedError(`${core.unit} is not running (${unit === undefined ? 'its state is unknown' : `ActiveState ${unit.activeState}`}); start it, wait until it is up, then ask again`)
  }
  const run = unit.invocationId
  const entries = await core.journal.read({ unit: core.unit, limit: ROOT_KEY_JOURNAL_TAIL })
  let key: string | undefined
  for (const e of entries) {
    if (e.invocationId !== run) continue
    const found = rootApiKeyOfLine(e.message)
    // The last banner line of the run wins, as identity-change.ts reads the safe form.
    if (found !== undefined) key = found
  }
  if (key === undefined) {
    throw new RootKeyNotLoggedError(`the current run of ${core.unit} (InvocationID ${run}) has not logged its banner's API Key line in the newest ${ROOT_KEY_JOURNAL_TAIL} journal entries; wait until it is up, then ask again`)
  }
  let identity: string
  try {
    identity = parseApiKey(key).identity
  } catch {
    // The parser's message never holds the key; neither does this one.
    throw new RootKeyNotLoggedError(`the API Key line of the current run of ${core.unit} (InvocationID ${run}) holds no valid k1:/k2: API key`)
  }
  return { invocationId: run, identity, apiKey: new Secret(key) }
}
