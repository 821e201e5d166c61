// Who may call a route, checked on every request before its body is read (an unauthenticated
// client gets its 401 without making the server parse a megabyte). Each route declares
// `config.access`: `public` (health, metrics, OpenAPI), `viewer` or `operator` (bearer token with
// at least that role), `agent` (boot slots: a client certificate, checked by the route itself).
// A route without a declaration is treated as `operator`: forgetting it must not open a door.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { RolloutStore } from '../store/rollout-store.js'
import { ForbiddenError, UnauthenticatedError } from '../errors.js'
import { principalOf, roleAllows, type Principal, type Role } from './tokens.js'

/** Access rule of a route (`config: { access }`). */
export type Access = 'public' | 'agent' | Role

declare module 'fastify' {
  interface FastifyContextConfig { access?: Access }
  interface FastifyRequest { principal?: Principal }
}

/** Options of {@link authPlugin}. */
export interface AuthOptions { store: Pick<RolloutStore, 'tokenByHash'> }

async function auth (app: FastifyInstance, opts: AuthOptions): Promise<void> {
  app.decorateRequest('principal', undefined)
  app.addHook('onRequest', async (req) => {
    // Unknown routes fall through to the 404 handler, which says nothing about anything.
    if (req.is404) return
    const access = req.routeOptions.config.access ?? 'operator'
    if (access === 'public' || access === 'agent') return
    const principal = await authenticate(req, opts)
    if (!roleAllows(principal.role, access)) {
      throw new ForbiddenError(`token ${principal.name} has role ${principal.role}; ${req.method} ${req.routeOptions.url ?? ''} needs ${access}`)
    }
    req.principal = principal
  })
}

async function authenticate (req: FastifyRequest, opts: AuthOptions): Promise<Principal> {
  const header = req.headers.authorization
  if (header === undefined || header === '') throw new UnauthenticatedError('no bearer token')
  // Node keeps the first of two Authorization headers and drops the rest; a proxy in front may
  // pick the last. Which token a request carries must not depend on who reads it: refused.
  if (authorizationHeaders(req) > 1) throw new UnauthenticatedError('the request has more than one Authorization header; send exactly one')
  const m = /^Bearer +(\S+) *$/i.exec(header)
  if (m?.[1] === undefined) throw new UnauthenticatedError('the Authorization header is not "Bearer <token>"')
  const principal = await principalOf(opts.store, m[1])
  if (principal === undefined) throw new UnauthenticatedError('unknown or revoked token')
  return principal
}

/** How many Authorization headers the request came with (rawHeaders: names and values alternate). */
function authorizationHeaders (req: FastifyRequest): number {
  const raw = req.raw.rawHeaders
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'authorization') n++
  return n
}

/** The actor of a request for the audit log: its token's name. */
export function actorOf (req: FastifyRequest): string {
  return req.principal?.name ?? 'unknown'
}

/** Installs the access check on the instance it is registered on (not encapsulated). */
export const authPlugin: FastifyPluginAsync<AuthOptions> = Object.assign(auth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'coordinator-auth'
})
