// The finished migration and its stored events, read from the coordinator's API with the lab's
// viewer token (reads only), through the CLI's own API client: what the demo's breakdown of the
// wall time is computed from.
import { readFile } from 'node:fs/promises'
import { CoordinatorApi } from '../../coordinator/cli/api-client.js'
import type { HsmMigration, HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import type { KeyrollFiles } from '../lab/lab-keyroll.js'

/** The migration `id` and every event stored for it (`?follow=0`: the stored ones, then the end). */
export async function migrationEvents (k: KeyrollFiles, id: string): Promise<{ migration: HsmMigration, events: HsmMigrationEvent[] }> {
  const api = new CoordinatorApi({
    url: new URL(k.url),
    urlSource: 'the lab',
    ca: await readFile(k.ca, 'utf8'),
    caSource: k.ca,
    token: (await readFile(k.viewerTokenFile, 'utf8')).trim(),
    tokenSource: k.viewerTokenFile
  }, 30_000)
  try {
    const path = `/v1/hsm-migrations/${encodeURIComponent(id)}`
    const migration = await api.get<HsmMigration>(path)
    const events: HsmMigrationEvent[] = []
    for await (const line of api.stream(`${path}/events?from=0&follow=0`)) {
      const e = line as Partial<HsmMigrationEvent>
      // Heartbeats are `{}`.
      if (typeof e.index === 'number' && typeof e.at === 'number') events.push(e as HsmMigrationEvent)
    }
    return { migration, events: events.sort((a, b) => a.index - b.index) }
  } finally {
    await api.close()
  }
}
