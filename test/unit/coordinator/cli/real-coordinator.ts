// The real coordinator API in process for the CLI's tests: buildCoordinatorApp over HTTPS on
// 127.0.0.1 with a certificate from `keyroll pki init`, the fakes of test/helpers behind it
// (here a FakeHsmMigrationControl as its `migrations`), real operator and viewer tokens in 0600
// files, and every log line captured. `env` is the CLI's environment for the operator.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CoordinatorAppDeps } from '../../../../coordinator/app.js'
import { createCoordinatorLogger } from '../../../../coordinator/logger.js'
import { subjectNames } from '../../../../coordinator/pki/names.js'
import { caPaths, coordinatorPaths } from '../../../../coordinator/pki/pki-layout.js'
import { initPki } from '../../../../coordinator/pki/site-pki.js'
import { buildTestCoordinator, testCoordinatorConfig, type TestCoordinator } from '../../../helpers/coordinator-app.js'
import { FakeHsmMigrationControl } from '../../../helpers/fake-hsm-migration-control.js'
import { tempDir } from './stand-in.js'

interface T { teardown: (fn: () => unknown) => void }

/** A listening coordinator with its fakes, logs and the CLI's environment. */
export interface RealCoordinator extends TestCoordinator {
  migrations: FakeHsmMigrationControl
  logs: string[]
  dir: string
  /** KEYROLL_URL, KEYROLL_CA and KEYROLL_TOKEN_FILE (the operator's). */
  env: Record<string, string>
  /** The same with the viewer's token. */
  viewerEnv: Record<string, string>
}

export async function realCoordinator (t: T, over: Pick<CoordinatorAppDeps, 'rootKeys'> = {}): Promise<RealCoordinator> {
  const dir = await tempDir(t)
  const pki = join(dir, 'pki')
  await initPki({ dir: pki, coordinatorName: 'coord', coordinatorNames: subjectNames(['127.0.0.1'], 'test'), agents: [] })
  const server = coordinatorPaths(pki).server
  const ca = caPaths(pki).crt
  const logs: string[] = []
  const migrations = new FakeHsmMigrationControl({ c1: ['node1', 'node2', 'node3'], c2: ['node9'] })
  const c = await buildTestCoordinator(t, {
    ...over,
    migrations,
    logger: createCoordinatorLogger({ level: 'trace', destination: { write: (l: string) => logs.push(l) } }),
    tls: { cert: await readFile(server.crt), key: await readFile(server.key), clientCa: await readFile(ca) },
    config: testCoordinatorConfig({ tls: { cert: server.crt, key: server.key, clientCa: ca }, devInsecureHttp: false })
  })
  const url = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const operatorFile = join(dir, 'operator.token')
  const viewerFile = join(dir, 'viewer.token')
  await writeFile(operatorFile, `${c.operatorToken}\n`, { mode: 0o600 })
  await writeFile(viewerFile, `${c.viewerToken}\n`, { mode: 0o600 })
  const base = { KEYROLL_URL: url, KEYROLL_CA: ca }
  return { ...c, migrations, logs, dir, env: { ...base, KEYROLL_TOKEN_FILE: operatorFile }, viewerEnv: { ...base, KEYROLL_TOKEN_FILE: viewerFile } }
}
