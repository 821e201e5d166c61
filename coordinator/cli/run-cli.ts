// The `keyroll` command line: the client of keyroll-coordinator's API (clusters, nodes, plan,
// rollout …, hsm …, audit), and the site setup commands that work on local files (pki, token create,
// audit verify). The only code that reads argv; tests call runCli() with their own I/O and deps.
//
// Exit codes (types.ts): 0 ok · 1 the coordinator failed or could not be reached, or a watched
// rollout or HSM migration failed/was aborted/reverted, or an HSM migration dry run found it
// would be refused, or the audit chain is broken · 2 bad input or a 4xx answer.
import { Command, CommanderError, Option } from 'commander'
import { apiCommands } from './api-commands.js'
import { hsmCommands } from './hsm-commands.js'
import { pkiAddAgent, pkiInit } from './pki-commands.js'
import { clusterRootKey } from './root-key-commands.js'
import { auditVerify, tokenCreate, tokenRevoke } from './store-commands.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'
import { KEYROLL_VERSION } from './version.js'

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** Runs one command line (without `node` and the script). Resolves with the exit code. */
export async function runCli (argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let exitCode: number = EXIT.ok
  const api = apiCommands(io, deps)
  const hsmApi = hsmCommands(io, deps)
  const program = new Command('keyroll')
    .description('keyroll: roll configuration changes over Key Manager (minkms) clusters through keyroll-coordinator')
    .exitOverride()
    .configureOutput({ writeOut: s => { io.stdout.write(s) }, writeErr: s => { io.stderr.write(s) } })
    .showHelpAfterError('(run keyroll --help, or keyroll COMMAND --help, for usage)')
    .version(KEYROLL_VERSION, '--version', 'print keyroll\'s version')
    // `audit` has options of its own and a subcommand (`verify`) with some of the same names:
    // a command's options are its own only before its subcommand's name.
    .enablePositionalOptions()
  const set = (fn: (...a: any[]) => Promise<number>) => async (...a: any[]) => { exitCode = await fn(...a) }
  // The connection flags and --json, on every API command.
  const client = (c: Command): Command => c
    .option('--url <url>', 'coordinator URL (default $KEYROLL_URL)')
    .option('--ca <file>', 'PEM CA of the coordinator\'s certificate (default $KEYROLL_CA)')
    .option('--token-file <file>', 'file holding the API token (default $KEYROLL_TOKEN_FILE)')
    .option('--json', 'print one JSON document')
  const applyExit = (c: Command): Command => c.exitOverride()

  client(program.command('clusters').description('list the clusters with their nodes\' health')).action(set(api.clusters))
  client(program.command('nodes').description('list nodes with their health (each answer is refreshed when 5 s old and shown up to 60 s old; AGE says how old)')).option('--cluster <name>', 'only this cluster').action(set(api.nodes))
  client(program.command('plan').description('plan a change on a cluster: per-node masked diffs and the plan hash'))
    .requiredOption('-f, --file <file>', 'change spec, YAML or JSON (.json)')
    .requiredOption('--cluster <name>', 'the cluster')
    .action(set(api.plan))

  const cluster = applyExit(program.command('cluster').description('one cluster'))
  client(cluster.command('root-key').description('write the cluster\'s new root API key (adopted when its root key changed with its HSM) to a new 0600 file; handed over once'))
    .argument('<cluster>', 'the cluster')
    .requiredOption('--out <file>', 'a new file (mode 0600) for the key; it is never printed')
    .action(set(async (name: string, o: { out: string }) => await clusterRootKey(io, deps, { ...o, cluster: name })))

  const rollout = applyExit(program.command('rollout').description('start, follow and steer rollouts'))
  client(rollout.command('start').description('start a rollout of a planned change'))
    .requiredOption('-f, --file <file>', 'change spec, the same file as for keyroll plan')
    .requiredOption('--cluster <name>', 'the cluster')
    .requiredOption('--plan-hash <hash>', 'the plan hash keyroll plan printed')
    .option('--max-parallel <n>', 'nodes changed at once (default 1)')
    .option('--canary', 'after the first node, wait for keyroll rollout promote')
    .option('--healthy-deadline <duration>', 'how long a node may take to pass its gate (e.g. 2m)')
    .option('--progress-deadline <duration>', 'how long the rollout may go without progress (e.g. 10m)')
    .option('--min-healthy-time <duration>', 'how long a node must stay healthy before the next (e.g. 5s)')
    .option('--failure-budget <n>', 'failed nodes tolerated before halting (default 0)')
    .option('--auto-revert', 'on failure, roll back the nodes already changed')
    .addOption(new Option('--on-unhealthy <policy>', 'a node unhealthy before the next step: wait or pause').choices(['wait', 'pause']))
    .option('--watch', 'follow the rollout once started (as keyroll rollout watch)')
    .action(set(api.start))
  for (const [name, what] of [['status', 'show a rollout'], ['watch', 'follow a rollout until it ends (exit 0 succeeded, 1 failed/aborted/reverted)']] as const) {
    client(rollout.command(name).description(what)).argument('<id>', 'rollout id')
      .action(set(async (id: string, o: object) => await api[name]({ ...o, id })))
  }
  const steers = {
    pause: 'pause a rollout: the steps in flight finish, no node starts until resume',
    resume: 'resume a paused rollout (or one paused before a node that was unhealthy)',
    abort: 'stop a rollout after the steps in flight; nodes not reached stay untouched (rollback undoes the others)',
    promote: 'go on with the other nodes after a canary rollout\'s first node passed',
    rollback: 'roll every node the rollout changed back to its previous revision, one at a time'
  } as const
  for (const action of ['pause', 'resume', 'abort', 'promote', 'rollback'] as const) {
    client(rollout.command(action).description(steers[action])).argument('<id>', 'rollout id')
      .action(set(async (id: string, o: object) => await api.steer(action, { ...o, id })))
  }
  client(rollout.command('list').description('list rollouts, newest first')).option('--cluster <name>', 'only this cluster').action(set(api.list))

  const hsm = applyExit(program.command('hsm').description('move a cluster\'s root-key HSM onto an external Key Manager (docs/hsm-migration.md)'))
  client(hsm.command('migrate').description('migrate a cluster\'s HSM to an external Key Manager, follow it live and report per node (exit 0 succeeded, 1 failed/aborted, 2 bad input)'))
    .requiredOption('--cluster <name>', 'the cluster')
    .requiredOption('--external <servers>', 'host:port of each external Key Manager server, comma-separated (kms0:7373,kms1:7373)')
    .requiredOption('--enclave <name>', 'enclave on the external Key Manager (created when missing)')
    .requiredOption('--key <name>', 'seal/unseal key in that enclave (created when missing)')
    .requiredOption('--admin-key-file <file>', 'file (mode 0600) holding the external Key Manager\'s root/SysAdmin API key')
    .option('--keep-local-hsm', 'stop after phase A: keep MINIO_KMS_HSM_KEY and the local HSM')
    .option('--replace-hsm', 'a node config has another hsm.<kind> block: go on, and remove it in phase B')
    .option('--remove-local-sealed-copy', 'after phase B, remove the local HSM\'s sealed root key copy (irreversible)')
    .option('--phase-b <mode>', 'how phase B restarts the nodes: rolling (default; a canary, then one node at a time) or all-at-once (every node together, for a cluster whose root identity changes with the local HSM; needs --allow-write-outage)')
    .option('--allow-write-outage', 'accept the all-at-once phase B\'s outage: no writes, and failed reads, until every node is back (the window is measured and reported)')
    .option('--dry-run', 'check everything (admin key, preflight, refusals, per-node diffs), touch nothing (exit 1 when a real run would be refused)')
    .option('--healthy-deadline <duration>', 'how long each node may take to pass its gate, in both phases (e.g. 2m)')
    .option('--progress-deadline <duration>', 'how long a phase may go without progress (e.g. 10m)')
    .option('--min-healthy-time <duration>', 'how long each node must stay healthy after its gate before the next (e.g. 5s; 0s holds none)')
    .option('--api-key-out <file>', 'write the generated API key of the Admin identity to this new file (0600); it is never printed')
    .option('--report <file>', 'write the final report as JSON (id, result, durationMs, nodes)')
    .option('--no-watch', 'start it and return (follow it later with keyroll hsm watch ID)')
    .action(set(hsmApi.migrate))
  client(hsm.command('status').alias('show').description('show an HSM migration with its report per node')).argument('<id>', 'migration id')
    .action(set(async (id: string, o: object) => await hsmApi.status({ ...o, id })))
  client(hsm.command('watch').description('follow an HSM migration until it ends (exit 0 succeeded, 1 failed/aborted)')).argument('<id>', 'migration id')
    .option('--report <file>', 'write the final report as JSON')
    .action(set(async (id: string, o: object) => await hsmApi.watch({ ...o, id })))
  for (const action of ['pause', 'abort'] as const) {
    client(hsm.command(action).description(`${action} an HSM migration`)).argument('<id>', 'migration id')
      .action(set(async (id: string, o: object) => await hsmApi.steer(action, { ...o, id })))
  }
  client(hsm.command('resume').description('resume an HSM migration (a failed one once its cause is fixed)')).argument('<id>', 'migration id')
    .option('--phase-b <mode>', 'a failed migration whose phase B has not completed goes on in this phase B mode: rolling or all-at-once (needs --allow-write-outage)')
    .option('--allow-write-outage', 'with --phase-b all-at-once: accept the outage while every node restarts together')
    .action(set(async (id: string, o: object) => await hsmApi.steer('resume', { ...o, id })))
  client(hsm.command('list').description('list HSM migrations, newest first')).option('--cluster <name>', 'only this cluster').action(set(hsmApi.list))

  const audit = client(program.command('audit').description('list the audit log; keyroll audit verify checks its hash chain')).enablePositionalOptions()
    .option('--from <seq>', 'from this entry on')
    .action(set(api.audit))
  audit.command('verify').description('verify the audit log\'s hash chain in a coordinator\'s state directory (exit 1 when broken)')
    .requiredOption('--state-dir <dir>', 'the coordinator\'s stateDir')
    .option('--json', 'print one JSON document')
    .action(set(async (o: { stateDir: string, json?: boolean }) => await auditVerify(io, deps, o)))

  const pki = applyExit(program.command('pki').description('create a site\'s CA and the certificates of its coordinator and agents'))
  pki.command('init').description('create the CA, the coordinator\'s server and client certificates and each agent\'s')
    .requiredOption('--dir <dir>', 'where to write them (see docs/operations.md for the layout)')
    .requiredOption('--coordinator-name <name>', 'the coordinator\'s name (CN and DNS name)')
    .option('--coordinator-ip <address...>', 'IP addresses or DNS names agents reach the coordinator at')
    .option('--agent <node=ip[,ip...]>', 'an agent and its addresses (repeat for each)', collect)
    .option('--force', 'replace an existing CA and re-issue every certificate')
    .option('--json', 'print one JSON document')
    .action(set(async (o: Parameters<typeof pkiInit>[1]) => await pkiInit(io, o)))
  pki.command('add-agent').description('issue an agent\'s certificates with the existing CA (unchanged when it exists with the same addresses)')
    .requiredOption('--dir <dir>', 'the directory of keyroll pki init')
    .argument('<node=ip[,ip...]>', 'the agent and its addresses')
    .option('--force', 're-issue an agent that exists with other addresses')
    .option('--json', 'print one JSON document')
    .action(set(async (agent: string, o: { dir: string, force?: boolean, json?: boolean }) => await pkiAddAgent(io, { ...o, agent })))

  const token = applyExit(program.command('token').description('API tokens'))
  token.command('create').description('create an API token in the coordinator\'s store and print it once')
    .addOption(new Option('--role <role>', 'viewer (read) or operator (read and steer)').choices(['viewer', 'operator']).makeOptionMandatory())
    .requiredOption('--name <name>', 'who the token is for (shown in the audit log)')
    .requiredOption('--state-dir <dir>', 'the coordinator\'s stateDir')
    .option('--out <file>', 'write the token to this file (0600) instead of printing it')
    .option('--force', 'replace --out when it exists')
    .option('--json', 'print one JSON document')
    .action(set(async (o: Parameters<typeof tokenCreate>[2]) => await tokenCreate(io, deps, o)))
  token.command('revoke').description('revoke an API token by name; the coordinator refuses it from its next request on')
    .argument('<name>', 'the token\'s name (as given to token create)')
    .requiredOption('--state-dir <dir>', 'the coordinator\'s stateDir')
    .option('--json', 'print one JSON document')
    .action(set(async (name: string, o: { stateDir: string, json?: boolean }) => await tokenRevoke(io, deps, { ...o, name })))

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    // --help and --version are successes; every other parse error is bad input.
    return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code) ? EXIT.ok : EXIT.badInput
  }
  return exitCode
}
