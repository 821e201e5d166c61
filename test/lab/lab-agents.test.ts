// Lab tier: `lab up --agents` as a newcomer uses it. keyroll-agent runs on every cluster node with
// certificates from the lab CA; the curl lines the lab prints are run as printed: minkms health
// and each agent's /v1/status answer 200, and POST /v1/plan with the README's change (YAML body)
// answers a masked diff. The status view names the agents and the client files.
import t from 'tap'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { processRunner } from '../../shared/process-runner.js'
import { repoRoot } from './repo.js'
import { labStatus, statusTable } from './lab-status.js'
import { labSkip, startLab } from './start-lab.js'

/** Runs a printed curl line as printed (plus silence and the status code on its own last line). */
async function curl (line: string, cwd: string): Promise<{ status: number, body: string }> {
  const r = await processRunner.run('bash', ['-c', `${line} -sS -w '\\n%{http_code}'`], { cwd, timeoutMs: 30_000 })
  const at = r.stdout.lastIndexOf('\n')
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) }
}

/** The change of the README's "Try keyroll-agent" block, with `key` for $KEY. */
async function readmeChange (key: string): Promise<string> {
  const readme = await readFile(join(repoRoot(), 'README.md'), 'utf8')
  const m = /cat > "\$TRY\/change\.yaml" <<EOF\n([\s\S]*?)\nEOF\n/.exec(readme)
  if (m?.[1] === undefined) throw new Error('README.md has no change.yaml heredoc in its "Try keyroll-agent" block')
  return m[1].replace('$KEY', key) + '\n'
}

t.test('lab up --agents: the printed curl lines work', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 2, external: 1, agents: true })
  const status = await labStatus(lab.state)
  t.same(status.agents, [{ node: 'node1', url: `https://${lab.node('node1').address}:7400` }, { node: 'node2', url: `https://${lab.node('node2').address}:7400` }])
  if (status.client === null) throw new Error('no client files in the status')
  t.equal(status.client.ca, lab.ca.path)
  t.equal((await stat(status.client.key)).mode & 0o777, 0o600, 'the client key is 0600')
  const text = statusTable(status)
  const dir = t.testdir()

  const minkms = [...text.matchAll(/^ {2}(curl --cacert \S+ https:\/\/\S+:7373\/v1\/health\/ready)$/gm)].map((m) => m[1] ?? '')
  t.equal(minkms.length, 3, 'one minkms curl line per node')
  for (const line of minkms) t.equal((await curl(line, dir)).status, 200, line)

  const agents = [...text.matchAll(/^ {2}(node\d+): (curl .*\/v1\/status)$/gm)]
  t.same(agents.map((m) => m[1]), ['node1', 'node2'], 'one /v1/status curl line per agent')
  for (const [, node, line] of agents) {
    const r = await curl(line ?? '', dir)
    t.equal(r.status, 200, `${node}: /v1/status answers 200`)
    t.equal((JSON.parse(r.body) as { node: string }).node, node)
  }

  const { key } = generateApiKey('k1')
  await writeFile(join(dir, 'change.yaml'), await readmeChange(key))
  const plan = /^ {2}plan a change \(YAML spec, as in the README\): (curl .*)$/m.exec(text)?.[1]
  t.ok(plan, 'a plan line is printed')
  const r = await curl(plan ?? 'false', dir)
  t.equal(r.status, 200, 'POST /v1/plan answers 200')
  const body = JSON.parse(r.body) as { changed: boolean, restart: boolean, files: Array<{ name: string, diff: string }> }
  t.equal(body.changed, true)
  t.equal(body.restart, false, 'the README change says restart: never')
  t.match(body.files.find((f) => f.name === 'config')?.diff, /^\+ +key: \*\*\*\S+$/m, 'the diff masks the key')
  t.notMatch(r.body, key, 'the key is not in the answer')
})
