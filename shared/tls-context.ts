// One TLS secure context per set of TLS material, shared by every connection made with it.
// tls.connect given `ca`/`cert`/`key` builds a new context for each connection: it parses the
// PEMs and builds a certificate store, milliseconds of CPU and tens of kB of native memory per
// connection. A coordinator that asks a thousand agents and their minkms opens thousands of
// connections for one fleet view, so it paid that thousands of times (docs/benchmarks.md). A
// context does not change once made, so sharing it between connections and clients is safe.
import { createHash } from 'node:crypto'
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls'

/** What a client's context is made of. No `ca`: Node's trust store. */
export interface SecureContextMaterial {
  ca?: string | Buffer | ReadonlyArray<string | Buffer>
  cert?: string | Buffer
  key?: string | Buffer
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
}

// Distinct material in one process is a handful (a CA per cluster, a client certificate, the
// probe identities' certificates, renewed every few months); the bound only stops slow growth.
const MAX_CONTEXTS = 64
const contexts = new Map<string, SecureContext>()

/** The options of tls.connect for `m`: the shared context, or the material itself when it is refused. */
export function tlsConnectMaterial (m: SecureContextMaterial): Pick<ConnectionOptions, 'secureContext' | 'ca' | 'cert' | 'key' | 'minVersion'> {
  const secureContext = sharedSecureContext(m)
  return secureContext !== undefined ? { secureContext } : contextOptions(m)
}

/**
 * The context for `m`, made once per distinct material (compared by content); undefined when the
 * material is refused (a malformed PEM): the caller then passes the material itself, so the error
 * comes from each connection as before, where callers report it, not from a constructor.
 */
export function sharedSecureContext (m: SecureContextMaterial): SecureContext | undefined {
  const id = materialId(m)
  const kept = contexts.get(id)
  if (kept !== undefined) return kept
  let made: SecureContext
  try {
    made = createSecureContext(contextOptions(m))
  } catch {
    return undefined
  }
  if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string)
  contexts.set(id, made)
  return made
}

function contextOptions (m: SecureContextMaterial): Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion'> {
  return {
    ...(m.ca === undefined ? {} : { ca: m.ca as string | Buffer | Array<string | Buffer> }),
    ...(m.cert === undefined ? {} : { cert: m.cert }),
    ...(m.key === undefined ? {} : { key: m.key }),
    ...(m.minVersion === undefined ? {} : { minVersion: m.minVersion })
  }
}

// A digest of the material (the map's keys hold no private key in clear), each part framed by
// its kind and length so that no two different sets of material share an id.
function materialId (m: SecureContextMaterial): string {
  const h = createHash('sha256')
  const part = (kind: string, v: string | Buffer | undefined): void => {
    if (v === undefined) { h.update(`${kind}:-;`); return }
    const b = typeof v === 'string' ? Buffer.from(v) : v
    h.update(`${kind}:${b.length}:`).update(b).update(';')
  }
  const cas = m.ca === undefined ? undefined : Array.isArray(m.ca) ? m.ca as ReadonlyArray<string | Buffer> : [m.ca as string | Buffer]
  h.update(`ca#${cas === undefined ? '-' : cas.length};`)
  for (const c of cas ?? []) part('ca', c)
  part('cert', m.cert)
  part('key', m.key)
  part('min', m.minVersion)
  return h.digest('hex')
}
