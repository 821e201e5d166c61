// `keyroll cluster root-key CLUSTER --out FILE`: the cluster's adopted root API key (its root key
// changed with its HSM; the coordinator kept it sealed), handed over once by the coordinator
// (POST /v1/clusters/:name/root-api-key) and written to FILE, mode 0600, and nowhere else: the
// command prints only the key's identity. FILE is created before the request, so an existing file
// or an unwritable path fails (exit 2) before the one hand-over is spent.
import { Secret } from '../../shared/secrets/secret.js'
import { reportError, withApi, type ApiOptions } from './command.js'
import { CliError } from './errors.js'
import { out, printJson } from './output.js'
import { reserveSecretFile, type SecretOutFile } from './secret-out-file.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'

/** The hand-over answer. */
interface HandOverAnswer { identity: string, apiKey: { $secret: string } }

/** `keyroll cluster root-key`. */
export async function clusterRootKey (io: CliIo, deps: CliDeps, o: ApiOptions & { cluster: string, out: string }): Promise<number> {
  let file: SecretOutFile
  try {
    if (o.cluster === '') throw new CliError('CRD_CLI_USAGE', 'the cluster name is empty')
    file = await reserveSecretFile(o.out, '--out')
  } catch (err) {
    return reportError(io, err)
  }
  let written = false
  try {
    return await withApi(o, io, deps, async (api) => {
      const answer = await api.post<HandOverAnswer>(`/v1/clusters/${encodeURIComponent(o.cluster)}/root-api-key`)
      if (typeof answer?.apiKey?.$secret !== 'string' || typeof answer.identity !== 'string') {
        throw new CliError('CRD_CLI_BAD_ANSWER', `POST /v1/clusters/${o.cluster}/root-api-key answered no key; if the coordinator handed it over anyway, keyroll clusters shows when`)
      }
      await file.write(new Secret(answer.apiKey.$secret))
      written = true
      if (o.json === true) printJson(io, { cluster: o.cluster, identity: answer.identity, out: file.path })
      else out(io, `cluster ${o.cluster}'s root API key (identity ${answer.identity}) is in ${file.path} (mode 0600); the coordinator hands it over once: keep that file`)
      return EXIT.ok
    })
  } finally {
    if (!written) await file.discard()
  }
}
