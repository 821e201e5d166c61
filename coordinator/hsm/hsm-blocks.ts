// Which `hsm.<kind>` blocks a node's minkms config holds. The agent shows no config, only plans,
// so the question is asked as a plan that would delete `hsm` (never applied: plans write
// nothing): its diff removes the whole block, lines that together are the block's YAML with
// secrets masked. The masks (`***<fingerprint>`) are made plain words before parsing, since YAML
// reads a leading `*` as an alias.
import { parse } from 'yaml'
import type { ChangeSpec } from '../../shared/change/schema.js'
import { formatDottedPath } from '../../shared/edit/dotted-path.js'
import type { PlanResult } from '../../shared/schemas/apply.js'
import type { AgentClient } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'

/** The plan that shows the `hsm` block: delete it, restart never (planned, not applied). */
export function hsmProbeChange (revision: number): ChangeSpec {
  return { revision, files: { config: { delete: ['hsm'] } }, restart: 'never' }
}

/**
 * The dotted paths of the HSM blocks in a config, from the config file's diff of
 * {@link hsmProbeChange}: `hsm.<vendor>.<kind>` for each two-level entry (`hsm.minio.minkms`),
 * `hsm.<name>` for an entry that is not a mapping of mappings. Empty when there is no `hsm`.
 */
export function hsmBlocksOfDiff (diff: string): string[] {
  const removed = diff.split('\n')
    .filter((l) => l.startsWith('-') && !l.startsWith('---'))
    .map((l) => l.slice(1).replace(/\*\*\*[A-Za-z0-9_-]*/g, 'masked'))
  if (removed.length === 0) return []
  let doc: unknown
  try {
    doc = parse(removed.join('\n'))
  } catch (err) {
    throw new Error(`the plan's diff of the hsm block cannot be read as YAML (${err instanceof Error ? err.message : String(err)})`, { cause: err })
  }
  const hsm = isMap(doc) ? doc.hsm : undefined
  if (!isMap(hsm)) return []
  const out: string[] = []
  for (const [vendor, kinds] of Object.entries(hsm)) {
    if (isMap(kinds) && Object.keys(kinds).length > 0 && Object.values(kinds).every(isMap)) {
      // As dotted paths, quoted where a key holds a dot: phase B deletes exactly these paths, and
      // `hsm.acme.io.x` unquoted names another place, so the delete found nothing and the block stayed.
      for (const kind of Object.keys(kinds)) out.push(formatDottedPath(['hsm', vendor, kind]))
    } else {
      out.push(formatDottedPath(['hsm', vendor]))
    }
  }
  return out.sort()
}

/** The HSM blocks of `node`'s config, asked as a plan of its agent. */
export async function readHsmBlocks (agents: Pick<AgentClient, 'plan'>, node: NodeRef, revision: number, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  const plan: PlanResult = await agents.plan(node, hsmProbeChange(revision), opts)
  const config = plan.files.find((f) => f.name === 'config')
  return config === undefined || !config.changed ? [] : hsmBlocksOfDiff(config.diff)
}

function isMap (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
