// A migration's dry run: every check a real run makes before it touches a node, and the per-node
// diffs of both phases, with nothing written anywhere (no store row, no object on the external
// Key Manager, no file on a node). Provisioning is previewed with reads; the preflight runs with a
// throwaway API key, since the Admin identity does not exist before provisioning: each node's TLS
// check to each server is real, the identity and round-trip checks are left to the real run.
import { generateApiKey } from '../../shared/minkms/keys.js'
import type { HsmMigrationStartAnswer } from '../../shared/schemas/hsm-migration.js'
import type { ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import { Secret } from '../../shared/secrets/secret.js'
import { errorText } from '../engine/error-text.js'
import type { AgentClient, AgentPreflightClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { HsmMigrationStart } from '../ports/hsm-migration-control.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import type { ExternalKmsAccess, ProvisionPreview } from './external-kms.js'
import { phaseAChange, phaseBChange } from './migration-changes.js'
import { checkNodes } from './migration-checks.js'

const NOT_CHECKED = 'not checked in a dry run: the Admin identity is created by provisioning; the real run checks it'

/** What a dry run needs. */
export interface DryRunDeps {
  rollouts: Pick<RolloutControl, 'plan'>
  agents: AgentClient & AgentPreflightClient
  probe: ClusterProbe
  external: ExternalKmsAccess
  preflightTimeoutMs?: number
}

/** The dry run's answer; `busy` is the conflict a real start would refuse with, if any. */
export async function dryRun (d: DryRunDeps, req: HsmMigrationStart, nodes: readonly NodeRef[], busy: string | undefined): Promise<HsmMigrationStartAnswer> {
  const problems: string[] = busy === undefined ? [] : [busy]
  let provision: ProvisionPreview | undefined
  try {
    provision = await d.external.preview(req.cluster, { servers: req.external, adminKey: req.adminKey }, { enclave: req.enclave, key: req.key })
  } catch (err) {
    problems.push(`provisioning: ${errorText(err)}`)
  }
  const throwaway = new Secret(generateApiKey().key)
  const checks = await checkNodes({
    agents: d.agents,
    probe: d.probe,
    nodes,
    request: { servers: [...req.external], enclave: req.enclave, key: req.key, apiKey: { $secret: throwaway.reveal() }, ...(d.preflightTimeoutMs === undefined ? {} : { timeoutMs: d.preflightTimeoutMs }) },
    replaceHsm: req.replaceHsm,
    mapAnswer: tlsOnly
  })
  problems.push(...checks.problems)
  const plans: { A?: unknown, B?: unknown } = {}
  const revision = checks.nextRevision ?? 1
  try {
    plans.A = await d.rollouts.plan(req.cluster, phaseAChange(revision, { servers: req.external, enclave: req.enclave, key: req.key, apiKey: throwaway }), req.actor)
    if (!req.keepLocalHsm) {
      const blocks = req.replaceHsm ? [...new Set(Object.values(checks.otherHsmBlocks).flat())].sort() : []
      plans.B = await d.rollouts.plan(req.cluster, phaseBChange(revision + 1, blocks), req.actor)
    }
  } catch (err) {
    problems.push(`plans: ${errorText(err)}`)
  }
  return {
    dryRun: {
      ok: problems.length === 0,
      problems,
      warnings: checks.warnings,
      ...(provision === undefined ? {} : { provision }),
      preflight: checks.preflight,
      plans
    }
  }
}

/** A preflight answer with only its TLS checks counted (the identity does not exist yet). */
function tlsOnly (r: ExternalKmsPreflightResult): ExternalKmsPreflightResult {
  const servers = r.servers.map((s) => {
    const ok = s.checks.tls.status === 'ok'
    return { ...s, ok, checks: { tls: s.checks.tls, auth: { status: 'skipped' as const, reason: NOT_CHECKED }, roundTrip: { status: 'skipped' as const, reason: NOT_CHECKED } } }
  })
  const reachable = servers.filter((s) => s.ok).length
  return { ...r, servers, reachable, ok: reachable === servers.length }
}
