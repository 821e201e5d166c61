// Who owns which lab id. Owning id N means owning the directory /var/tmp/keyroll-lab/N, which
// holds owner.json from the moment it exists: it is built under a temporary name and renamed into
// place, and rename(2) of a directory onto an existing one fails, so two claimants never both win.
// A test lab whose owner process is gone is stale: the next claimant moves its directory away
// (again with rename, so only one does) and takes the id; `up` then clears the stale lab's
// processes, network and cgroups by name before building.
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LAB_ROOT, MAX_LAB_ID, labLayout, type LabLayout } from './lab-paths.js'
import { isRunning, processRef, type ProcessRef } from './procfs.js'

/**
 * The owner of a lab id. A `cli` lab lives until `lab down`, whatever happens to the process
 * that ran `up`; a `test` lab lives as long as its test process.
 */
export interface LabOwner extends ProcessRef {
  kind: 'cli' | 'test'
  createdAt: string
}

/** The owner of lab `id`, or undefined when the id is free or its owner file is unreadable. */
export async function readOwner (layout: LabLayout): Promise<LabOwner | undefined> {
  try {
    return JSON.parse(await readFile(layout.ownerFile, 'utf8')) as LabOwner
  } catch {
    return undefined
  }
}

/** True when the owner still holds the lab: always for `cli`, while its process runs for `test`. */
export function ownerIsLive (owner: LabOwner | undefined): boolean {
  if (owner === undefined) return false
  return owner.kind === 'cli' || isRunning(owner)
}

/** Lab ids that have a base directory. */
export async function labDirIds (): Promise<number[]> {
  try {
    return (await readdir(LAB_ROOT)).filter((e) => /^\d+$/.test(e)).map(Number).sort((a, b) => a - b)
  } catch {
    return []
  }
}

/** Directories of stale labs of `id` that a claimant moved aside (removed by `up`/`down`). */
export async function staleDirs (id: number): Promise<string[]> {
  try {
    return (await readdir(LAB_ROOT)).filter((e) => e.startsWith(`.stale-${id}-`)).map((e) => join(LAB_ROOT, e))
  } catch {
    return []
  }
}

/** Ids of stale labs moved aside that no `up` or `down` has cleared yet. */
export async function movedAsideIds (): Promise<number[]> {
  const entries = await readdir(LAB_ROOT).catch(() => [])
  return [...new Set(entries.map((e) => /^\.stale-(\d+)-/.exec(e)?.[1]).filter((v) => v !== undefined).map(Number))]
}

/** Removes claim directories of processes that died while claiming (they hold only owner.json). */
export async function sweepDeadClaims (): Promise<void> {
  for (const e of await readdir(LAB_ROOT).catch(() => [])) {
    const pid = /^\.claim-(\d+)-/.exec(e)?.[1]
    if (pid !== undefined && processRef(Number(pid)) === undefined) await rm(join(LAB_ROOT, e), { recursive: true, force: true })
  }
}

function isExists (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'EEXIST' || code === 'ENOTEMPTY'
}

/** Options of {@link claimLabId}. */
export interface ClaimOptions {
  /** Also replace a `cli` lab (the CLI's `up` replaces its own lab). */
  takeOver?: boolean
  /** The owning process (default: this one), e.g. the test that runs the CLI. */
  owner?: ProcessRef
}

/**
 * Claims lab `id`. An id held by a live owner is refused. Returns the layout, or undefined when
 * the id is busy.
 */
export async function claimLabId (id: number, kind: LabOwner['kind'], opts: ClaimOptions = {}): Promise<LabLayout | undefined> {
  const layout = labLayout(id)
  const me = opts.owner ?? processRef()
  if (me === undefined) throw new Error('cannot read /proc/self/stat')
  // Creating the parent with it, in one call: the last `down` removes an empty LAB_ROOT.
  const tmp = join(LAB_ROOT, `.claim-${process.pid}-${randomBytes(4).toString('hex')}`)
  await mkdir(tmp, { recursive: true, mode: 0o755 })
  const owner: LabOwner = { kind, ...me, createdAt: new Date().toISOString() }
  await writeFile(join(tmp, 'owner.json'), JSON.stringify(owner) + '\n')
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await rename(tmp, layout.base)
        return layout
      } catch (err) {
        if (!isExists(err) || attempt > 0) return undefined
      }
      const current = await readOwner(layout)
      const replaceable = !ownerIsLive(current) || (opts.takeOver === true && current?.kind === 'cli')
      if (!replaceable) return undefined
      try {
        await rename(layout.base, join(LAB_ROOT, `.stale-${id}-${randomBytes(4).toString('hex')}`))
      } catch {
        return undefined // another claimant moved it first
      }
    }
    return undefined
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Claims the lowest free lab id from 1 (the CLI uses 0 by default). */
export async function allocateLabId (kind: LabOwner['kind'] = 'test', opts: { owner?: ProcessRef } = {}): Promise<LabLayout> {
  const first = 1
  for (let id = first; id <= MAX_LAB_ID; id++) {
    const layout = await claimLabId(id, kind, opts)
    if (layout !== undefined) return layout
  }
  throw new Error(`no free lab id from ${first} to ${MAX_LAB_ID} (see ${LAB_ROOT})`)
}
