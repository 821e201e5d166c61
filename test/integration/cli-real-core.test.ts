// keyroll-agent's CLI over the real core (real files, real systemctl/journalctl, no daemon):
// a restart the unit cannot take is refused before anything is written, and `status` computes
// drift itself.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli } from '../../agent/cli.js'
import { generateApiKey } from '../../shared/minkms/keys.js'

const CONFIG = 'version: v1\n'
const ENV = 'MINIO_KMS_VOLUME=/mnt/minio-kms\n'

async function setup (dir: string, unit: string): Promise<{ run: (...argv: string[]) => Promise<{ code: number, out: string, err: string }>, spec: (rev: number, restart: string) => Promise<string>, key: string }> {
  await writeFile(join(dir, 'minkms.yaml'), CONFIG)
  await writeFile(join(dir, 'minkms.env'), ENV)
  await writeFile(join(dir, 'agent.yaml'), [
    'node: t1', `unit: ${unit}`, `stateDir: ${dir}/state`, 'files:',
    `  config: { path: ${dir}/minkms.yaml, kind: minkms-config }`, `  env: { path: ${dir}/minkms.env, kind: env }`,
    'listen: { host: 127.0.0.1, port: 7400 }', 'devInsecureHttp: true', 'minkms: { endpoint: 127.0.0.1:7373 }', ''
  ].join('\n'))
  const { key } = generateApiKey('k1')
  return {
    key,
    run: async (...argv) => {
      let out = ''; let err = ''
      const code = await runCli([...argv, '--config', join(dir, 'agent.yaml')], { stdout: { write: (s: string) => { out += s } }, stderr: { write: (s: string) => { err += s } } }, { env: {} })
      return { code, out, err }
    },
    spec: async (rev, restart) => {
      const path = join(dir, `change-${rev}.yaml`)
      await writeFile(path, `revision: ${rev}\nfiles:\n  config:\n    set:\n      hsm.minio.minkms:\n        server: [kms0.example.net:7373]\n` +
        `        enclave: e\n        key: k\n        auth:\n          key: !secret ${key}\nrestart: ${restart}\n`)
      return path
    }
  }
}

t.test('restart: on-change with a unit systemd does not have: exit 2 naming the unit, nothing written', async (t) => {
  const dir = t.testdir()
  const unit = 'keyroll-test-no-such-unit.service'
  const cli = await setup(dir, unit)
  const spec = await cli.spec(1, 'on-change')
  const plan = await cli.run('plan', '--spec', spec)
  t.equal(plan.code, 0, 'plan writes nothing and succeeds')
  t.match(plan.err, new RegExp(`^warning: .*${unit.replace(/\./g, '\\.')}.*; apply refuses this change, which restarts ${unit.replace(/\./g, '\\.')}$`, 'm'), 'plan warns')
  const r = await cli.run('apply', '--spec', spec)
  t.equal(r.code, 2)
  t.match(r.err, /^error: AGT_UNIT_NOT_RESTARTABLE: the change restarts keyroll-test-no-such-unit\.service, which cannot be restarted: .*nothing was written$/m)
  t.notMatch(r.err + r.out, /ROLLBACK|journalctl/, 'no rollback story')
  t.equal(await readFile(join(dir, 'minkms.yaml'), 'utf8'), CONFIG)
  t.equal(await readFile(join(dir, 'minkms.env'), 'utf8'), ENV)
  t.notMatch(r.err + r.out + plan.err + plan.out, cli.key, 'the key never printed')
})

t.test('status without the daemon: drift computed from the files, exit 1 on drift', async (t) => {
  const dir = t.testdir()
  const cli = await setup(dir, 'minkms.service')
  const before = JSON.parse((await cli.run('status', '--json')).out) as { drift: unknown[] }
  t.same(before.drift, [], 'nothing applied: nothing to drift from')
  t.equal((await cli.run('apply', '--spec', await cli.spec(1, 'never'))).code, 0)
  t.same((JSON.parse((await cli.run('status', '--json')).out) as { drift: unknown[] }).drift, [], 'just applied: no drift')

  await writeFile(join(dir, 'minkms.env'), ENV + 'BY_HAND=1\n')
  const s = await cli.run('status', '--json')
  t.equal(s.code, 1, 'drift: exit 1')
  const drift = (JSON.parse(s.out) as { drift: Array<{ name: string, path: string, fingerprint: string, expected: string }> }).drift
  t.same(drift.map((d) => [d.name, d.path]), [['env', join(dir, 'minkms.env')]])
  t.not(drift[0]?.fingerprint, drift[0]?.expected)
  const text = await cli.run('status')
  t.match(text.out, new RegExp(`DRIFT in ${join(dir, 'minkms.env').replace(/\./g, '\\.')}$`, 'm'))
  t.equal(text.code, 1)
  t.notMatch(text.out + s.out, cli.key)
})
