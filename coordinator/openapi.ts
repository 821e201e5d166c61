// The OpenAPI 3.1 document of the API, built from the routes' own TypeBox schemas (they are JSON
// Schema, which OpenAPI 3.1 takes as is), so the document cannot drift from what the routes
// validate and serialise. Routes are collected as they are registered (`onRoute`); the document
// is built once, on first request.
import type { FastifyInstance, RouteOptions } from 'fastify'
import { NO_BODY } from '../shared/fastify-base.js'

interface RouteDoc { method: string, url: string, schema: Record<string, unknown>, access: string }

type Json = Record<string, unknown>

/** Collects the routes of `app` and returns the function that builds the document. */
export function collectOpenApi (app: FastifyInstance, info: { title: string, version: string }): () => Json {
  const routes: RouteDoc[] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const schema = (route.schema ?? {}) as Json
    const access = (route.config as { access?: string } | undefined)?.access ?? 'operator'
    for (const m of methods) if (m !== 'HEAD' && m !== 'OPTIONS') routes.push({ method: m.toLowerCase(), url: route.url, schema, access })
  })
  let doc: Json | undefined
  return () => {
    doc ??= build(routes, info)
    return doc
  }
}

function build (routes: readonly RouteDoc[], info: { title: string, version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {}
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    paths[path] ??= {}
    const op: Json = {
      operationId: `${r.method}${path.replace(/[{}]/g, '').split(/[/_.-]/).map(s => s.charAt(0).toUpperCase() + s.slice(1)).join('')}`,
      ...(typeof r.schema.summary === 'string' ? { summary: r.schema.summary } : {}),
      security: r.access === 'public' || r.access === 'agent' ? [] : [{ bearer: [] }],
      ...(r.access === 'agent' ? { description: 'Authenticated by the agent\'s client certificate (mutual TLS), not a token.' } : r.access === 'operator' ? { description: 'Needs a token with the operator role.' } : r.access === 'viewer' ? { description: 'Needs a token (viewer or operator).' } : {}),
      parameters: [...parameters(r.schema.params, 'path'), ...parameters(r.schema.querystring, 'query'), ...parameters(r.schema.headers, 'header')],
      responses: responses(r.schema.response as Json | undefined, r.schema.produces as string[] | undefined)
    }
    // A route that takes no body got NO_BODY from the base (only to refuse one): no requestBody.
    if (r.schema.body !== undefined && r.schema.body !== NO_BODY) {
      const types = (r.schema.consumes as string[] | undefined) ?? ['application/json']
      op.requestBody = { required: true, content: Object.fromEntries(types.map(t => [t, t === 'application/json' ? { schema: plain(r.schema.body) } : {}])) }
    }
    paths[path][r.method] = op
  }
  return {
    openapi: '3.1.0',
    info,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (keyroll token create)' } } },
    paths
  }
}

function parameters (schema: unknown, where: 'path' | 'query' | 'header'): Json[] {
  const s = schema as { properties?: Record<string, unknown>, required?: string[] } | undefined
  if (s?.properties === undefined) return []
  return Object.entries(s.properties).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: plain(p),
    ...(typeof (p as Json).description === 'string' ? { description: (p as Json).description } : {})
  }))
}

function responses (schemas: Json | undefined, produces: string[] | undefined): Json {
  const out: Json = {}
  for (const [status, s] of Object.entries(schemas ?? {})) {
    const key = status.replace(/xx$/, 'XX')
    const schema = s as Json
    if (schema.content !== undefined) {
      out[key] = { description: String(schema.description ?? status), content: plain(schema.content) }
    } else if ((schema as { type?: unknown }).type === 'null') {
      out[key] = { description: 'no content' }
    } else {
      const type = status.startsWith('2') && produces !== undefined ? produces[0] ?? 'application/json' : 'application/json'
      out[key] = { description: String(schema.description ?? (status.startsWith('2') ? 'success' : 'error')), content: { [type]: { schema: plain(schema) } } }
    }
  }
  return out
}

// The schema as plain JSON (TypeBox's symbol keys and anything not JSON dropped).
function plain (v: unknown): unknown {
  return v === undefined ? {} : JSON.parse(JSON.stringify(v))
}
