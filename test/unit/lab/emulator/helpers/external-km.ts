// An in-process emulator playing the external Key Manager of `hsm.minio.minkms`, provisioned
// through the real client exactly as the HSM migration procedure does (enclave, Admin identity,
// sealing key), with the commands it served recorded.
import { generateApiKey } from '../../../../../shared/minkms/keys.js'
import type { CommandEvent } from '../../../../lab/emulator/http-server.js'
import { clientFor, startNode, type ExternalHsmSpec, type TestEnv } from './harness.js'

export const ENCLAVE = 'aistor-key-manager'
export const KEY = 'aistor-key-manager-hsm'

export interface ExternalKm { host: string, spec: ExternalHsmSpec, events: CommandEvent[], close: () => Promise<void> }

/** Starts the external Key Manager with an enclave, an admin identity and the sealing key. */
export async function externalKm (env: TestEnv): Promise<ExternalKm> {
  const events: CommandEvent[] = []
  const ext = await startNode(env, { hsmKey: 'hsm:aes256:' + Buffer.alloc(32, 0x11).toString('base64'), onCommand: (e) => events.push(e) })
  const root = clientFor(env, ext.emu.host, ext.emu.rootApiKey)
  await root.createEnclave(ENCLAVE)
  const admin = generateApiKey('k1')
  await root.createIdentity(ENCLAVE, { identity: admin.identity, privilege: 'Admin' })
  await clientFor(env, ext.emu.host, admin.key).createKey(ENCLAVE, KEY)
  events.length = 0
  return { host: ext.emu.host, spec: { servers: [ext.emu.host], enclave: ENCLAVE, key: KEY, apiKey: admin.key }, events, close: () => ext.emu.close() }
}

/** The KEY:* commands the external Key Manager served, as `COMMAND enclave status`. */
export const cryptoCalls = (events: CommandEvent[]): string[] =>
  events.filter((e) => e.command.startsWith('KEY:')).map((e) => `${e.command} ${e.enclave} ${e.status}`)
