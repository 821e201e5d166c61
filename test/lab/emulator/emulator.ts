// One emulated minkms node, from `minkms server DIR ...` to a listening HTTPS server. Usable in
// process (tests start several) or from main.ts. Start-up failures reject with FatalError; the
// caller prints the FATAL line and exits 1.
import { once } from 'node:events'
import type { Server } from 'node:https'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { clientCertificate } from '../../../shared/minkms/certificate.js'
import { parseApiKey } from '../../../shared/minkms/keys.js'
import { bannerLines, READY_LINE } from './banner.js'
import { ClusterManager } from './cluster.js'
import { ClusterStore, freshCluster, type ClusterInfo } from './cluster-state.js'
import { loadConfig } from './config.js'
import { dataFiles, hasSealedState, prepareDataDir } from './data-dir.js'
import { ExternalHsmDown } from './external-hsm-down.js'
import { ExternalKmsHsm } from './external-kms-hsm.js'
import { describeFaults, readFaults, type Faults } from './faults.js'
import { FatalError, describeError } from './fatal-error.js'
import type { Hsm } from './hsm.js'
import { HsmManager } from './hsm-manager.js'
import { parseHsmKey } from './hsm-key.js'
import { publicHost, splitAddress } from './host.js'
import { createKmsServer, type ServerHooks } from './http-server.js'
import { KeyDatabase } from './key-database.js'
import type { EmulatorLog } from './log.js'
import type { EmulatorNode } from './node.js'
import { PeerHttpsTransport } from './peer-https-transport.js'
import { RefusingPeerTransport, type PeerTransport } from './peer-transport.js'
import { Readiness } from './readiness.js'
import { RekStore } from './rek-store.js'
import { replicaKey } from './replica-state.js'
import { Replication } from './replication.js'
import { derivedRootApiKey, identityHsm, type RootIdentityMode } from './root-identity.js'
import { loadOrCreateRootKey } from './root-key-store.js'
import type { PeerStatus } from './rpc-types.js'
import { SoftHsm } from './soft-hsm.js'
import { loadTlsMaterial } from './tls-files.js'
import { unsealRek } from './unseal.js'
import { VaultStandInHsm } from './vault-standin-hsm.js'
import { API_VERSION, EMULATOR_VERSION } from './version.js'

export interface EmulatorOptions {
  /** The data directory (`minkms server DIR`). */
  dataDir: string
  /** Normalised listen address `IP:PORT` (port 0: any free port). */
  address: string
  /** `--host`. */
  host?: string
  /** `--config`. */
  configPath?: string
  /** MINIO_KMS_HSM_KEY (unset or empty: no soft HSM). */
  hsmKey?: string
  /** Directory of fault switch files. */
  faultsDir: string
  log: EmulatorLog
  /** Aborting stops a start in progress (SIGTERM during slow start). */
  signal?: AbortSignal
  /** Per-server timeout of external HSM calls (default 3 s). */
  externalHsmTimeoutMs?: number
  /** Test observers of the HTTPS server. */
  hooks?: ServerHooks
  /** Where the root API key comes from (root-identity.ts; default `stored`, MINKMS_EMU_ROOT_IDENTITY). */
  rootIdentity?: RootIdentityMode
}

/** A node that printed its banner. */
export interface RunningEmulator {
  /** `host:port` as in the banner. */
  readonly host: string
  readonly port: number
  readonly rootApiKey: string
  readonly rootIdentity: string
  /** Resolves with the exit status once stopped: 0 after close(), 2 after a `crash-after` fault. */
  readonly exited: Promise<number>
  /** Stops listening, closes connections, logs the stop; resolves when done. */
  close (reason?: string): Promise<void>
}

/**
 * The configured HSMs, in the order unseal tries them and the banner lists them (emulator choice):
 * the soft HSM, then the Vault stand-in, then the external Key Manager.
 */
async function configuredHsms (opts: EmulatorOptions, others: ReadonlyArray<Hsm | undefined>): Promise<{ hsms: Hsm[], softKey?: Buffer }> {
  const hsms: Hsm[] = []
  let softKey: Buffer | undefined
  if (opts.hsmKey !== undefined && opts.hsmKey.trim() !== '') {
    const parsed = parseHsmKey(opts.hsmKey)
    if (!parsed.ok) throw new FatalError(`kms: invalid MINIO_KMS_HSM_KEY: ${parsed.reason}`)
    softKey = parsed.key
    hsms.push(new SoftHsm(parsed.key))
  }
  for (const hsm of others) if (hsm !== undefined) hsms.push(hsm)
  if (hsms.length === 0) throw new FatalError('kms: no HSM provided')
  return softKey === undefined ? { hsms } : { hsms, softKey }
}

async function listen (server: Server, address: string): Promise<number> {
  const { ip, port } = splitAddress(address)
  server.listen({ host: ip, port })
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  } catch (err) {
    throw new FatalError(`kms: failed to listen on ${address}: ${describeError(err)}`, { cause: err })
  }
  const a = server.address()
  return typeof a === 'object' && a !== null ? a.port : port
}

/** Adopts or creates the membership for `host`; refuses a host that does not match a multi-node cluster. */
async function clusterFor (store: ClusterStore, host: string): Promise<ClusterInfo> {
  let info: ClusterInfo | undefined
  try {
    info = await store.load()
  } catch (err) {
    throw new FatalError(`kms: cannot read cluster state: ${describeError(err)}`, { cause: err })
  }
  if (info === undefined) {
    info = freshCluster(host)
  } else if (info.nodes[info.nodeId] !== host) {
    if (Object.keys(info.nodes).length > 1) {
      throw new FatalError(`kms: server not part of cluster: this node is '${host}' but cluster ${info.clusterId} ` +
        `knows node ${info.nodeId} as '${info.nodes[info.nodeId] ?? ''}'`)
    }
    info = { ...info, nodes: { [info.nodeId]: host } }
  } else {
    return info
  }
  await store.save(info)
  return info
}

/** Starts a node. Rejects with FatalError (exit 1) or, when `signal` aborts, with its reason. */
export async function startEmulator (opts: EmulatorOptions): Promise<RunningEmulator> {
  const { log } = opts
  log.info('Starting server instance...')
  const faults: Faults = await readFaults(opts.faultsDir, (m) => log.warn(m))
  const active = describeFaults(faults)
  if (active.length > 0) log.warn(`fault injection active: ${active.join(', ')}`)
  if (faults.exit1 === true) throw new FatalError('kms: fault injection: exit-1')

  const config = await loadConfig(opts.configPath)
  if (faults.exit1IfConfig !== undefined && opts.configPath !== undefined && (await readFile(opts.configPath, 'utf8')).includes(faults.exit1IfConfig)) {
    throw new FatalError('kms: fault injection: exit-1-if-config')
  }
  for (const w of config.warnings) log.warn(w)
  const tls = await loadTlsMaterial(config.tls)
  let external: Hsm | undefined
  if (config.externalHsm !== undefined) {
    external = new ExternalKmsHsm(config.externalHsm, tls.ca, opts.externalHsmTimeoutMs ?? 3000)
    if (faults.externalHsmDown === true) external = new ExternalHsmDown(external, config.externalHsm.servers)
  }
  const vault = config.vaultHsm === undefined ? undefined : new VaultStandInHsm(config.vaultHsm)
  const { hsms, softKey } = await configuredHsms(opts, [vault, external])

  await prepareDataDir(opts.dataDir)
  const files = dataFiles(opts.dataDir)
  const rekStore = new RekStore(files.rek)
  const { rek, unsealedBy } = await unsealRek(rekStore, hsms, await hasSealedState(files), log)
  let rootApiKey: string
  let db: KeyDatabase
  try {
    if (opts.rootIdentity === 'derived') {
      // Never stored: the HSM this start unsealed with decides, as it would if minkms derived it so.
      const from = identityHsm(hsms, unsealedBy)
      rootApiKey = derivedRootApiKey(from)
      log.info(`Derived the root API key from HSM ${from.name} (root identity mode: derived)`)
    } else {
      rootApiKey = await loadOrCreateRootKey(files.rootKey, rek, softKey, log)
    }
    db = await KeyDatabase.open(files.db, rek)
  } catch (err) {
    throw new FatalError(`kms: cannot open the key database: ${describeError(err)}`, { cause: err })
  }
  const rootIdentity = parseApiKey(rootApiKey).identity
  const peerCert = await clientCertificate(rootApiKey)

  if (faults.slowStartMs !== undefined) {
    log.warn(`fault slow-start: waiting ${faults.slowStartMs / 1000}s before listening`)
    await sleep(faults.slowStartMs, undefined, opts.signal === undefined ? {} : { signal: opts.signal })
  }
  opts.signal?.throwIfAborted()

  const readiness = new Readiness(faults, log)
  const hsmManager = new HsmManager(rekStore, hsms, rek, log)
  const startedAt = Date.now()
  // The node object is completed once the port (and so the host) is known.
  const late: { cluster?: ClusterManager, replication?: Replication, host: string } = { host: '' }
  const localStatus = async (): Promise<PeerStatus> => {
    const info = late.cluster?.info
    return {
      clusterId: info?.clusterId ?? '',
      id: info?.nodeId ?? 0,
      host: late.host,
      version: EMULATOR_VERSION,
      apiVersion: API_VERSION,
      upTimeMs: Date.now() - startedAt,
      nodes: Object.fromEntries(Object.entries(info?.nodes ?? {})),
      hsms: await hsmManager.entryNames(),
      configuredHsms: hsmManager.configuredNames(),
      ready: readiness.ready,
      revision: db.revision
    }
  }
  const node: EmulatorNode = {
    log,
    db,
    hsms: hsmManager,
    get cluster (): ClusterManager {
      if (late.cluster === undefined) throw new Error('cluster not initialised')
      return late.cluster
    },
    get replication (): Replication {
      if (late.replication === undefined) throw new Error('replication not initialised')
      return late.replication
    },
    refusesPeers: faults.refusePeers === true,
    get host (): string { return late.host },
    rootIdentity,
    rootIdentities: new Set([rootIdentity, ...(config.adminIdentity === undefined ? [] : [config.adminIdentity])]),
    isReady: () => readiness.ready
  }
  const server = createKmsServer(node, tls, localStatus, opts.hooks)
  const port = await listen(server, opts.address)
  const closeServer = async (): Promise<void> => {
    const closed = once(server, 'close')
    server.close()
    server.closeAllConnections()
    await closed
  }
  let info: ClusterInfo
  try {
    late.host = publicHost(opts.host, splitAddress(opts.address).ip, port)
    const clusterStore = new ClusterStore(files.cluster)
    info = await clusterFor(clusterStore, late.host)
    const transport: PeerTransport = faults.refusePeers === true ? new RefusingPeerTransport() : new PeerHttpsTransport(peerCert, tls.ca)
    const replicas = replicaKey(rootApiKey)
    late.cluster = new ClusterManager({
      store: clusterStore,
      info,
      transport,
      log,
      db,
      replicaKey: replicas,
      localStatus,
      localHsm: async (req) => {
        if (req.op === 'add') await hsmManager.add(req.name, req.overwrite, req.dryRun)
        else await hsmManager.remove(req.name, req.dryRun)
      },
      host: late.host
    })
    late.replication = new Replication({ cluster: late.cluster, db, transport, replicaKey: replicas, log })
    await late.replication.catchUp()
  } catch (err) {
    await closeServer()
    throw err
  }

  for (const line of bannerLines({
    hsms: hsmManager.configuredNames(),
    clusterId: info.clusterId,
    nodes: info.nodes,
    nodeId: info.nodeId,
    host: late.host,
    rootApiKey
  })) log.raw(line)
  log.raw(READY_LINE)
  readiness.start()

  let resolveExit: (code: number) => void = () => {}
  const exited = new Promise<number>((resolve) => { resolveExit = resolve })
  let stopping: Promise<void> | undefined
  const stop = (code: number, reason: string | undefined): Promise<void> => {
    stopping ??= (async () => {
      clearTimeout(crashTimer)
      readiness.stop()
      if (reason !== undefined) log.info(`Stopping server (${reason})...`)
      await closeServer()
      if (reason !== undefined) log.info('Server stopped. Goodbye.')
      resolveExit(code)
    })()
    return stopping
  }
  const crashAfter = faults.crashAfterMs
  const crashTimer = crashAfter === undefined
    ? undefined
    : setTimeout(() => {
      log.raw(`panic: minkms-emulator: fault crash-after: crashing ${crashAfter / 1000}s after start-up`, 'stderr')
      stop(2, undefined).catch(() => {})
    }, crashAfter)

  return {
    host: late.host,
    port,
    rootApiKey,
    rootIdentity,
    exited,
    close: async (reason = 'shutdown requested') => { await stop(0, reason) }
  }
}
