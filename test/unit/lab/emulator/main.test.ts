// The `minkms` binary as the unit runs it: main in a child process, with exit codes, stdout/stderr
// and signals. Spawning goes through process-runner. The child runs the same form as this file:
// the compiled main.js next to it when the test runs from dist/ (npm test), main.ts through tsx
// when it runs as TypeScript, so a single-file run never tests a stale build.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { processRunner, type SpawnedProcess } from '../../../../shared/process-runner.js'
import { deriveRootApiKey } from '../../../lab/emulator/root-key.js'
import { clientFor, configYaml, freshDir, startNode, testEnv, TEST_HSM_KEY, type TestEnv } from './helpers/harness.js'

const COMPILED = import.meta.url.endsWith('.js')
const MAIN = fileURLToPath(new URL(`../../../lab/emulator/main.${COMPILED ? 'js' : 'ts'}`, import.meta.url))
const NODE_ARGS = COMPILED ? [MAIN] : ['--import', 'tsx', MAIN]
const FATAL = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d FATAL /

async function minkms (args: string[], env: NodeJS.ProcessEnv = {}, okCodes = [0]): Promise<{ stdout: string, stderr: string, code: number }> {
  return await processRunner.run(process.execPath, [...NODE_ARGS, ...args], {
    timeoutMs: 60_000, okCodes, env: { ...process.env, MINIO_KMS_HSM_KEY: '', ...env }
  })
}

/** Writes a config file and returns its path. */
function config (env: TestEnv, text: string): string {
  const path = join(freshDir(env, 'cfg'), 'config.yaml')
  writeFileSync(path, text)
  return path
}

t.test('client-side commands', async (t) => {
  t.match((await minkms(['--version'])).stdout, /^minkms version 2025-11-12T19-14-51Z /)
  const soft = (await minkms(['--soft-hsm'])).stdout
  t.match(soft, /^Your software HSM key:\n\n {3}hsm:aes256:[A-Za-z0-9+/]{43}=\n\nThis is the only time it is shown/)
  const id = (await minkms(['identity', TEST_HSM_KEY])).stdout
  t.match(id, `Your API key:\n\n${deriveRootApiKey(Buffer.alloc(32, 0x42))}\n`)
  t.equal((await minkms(['identity', 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'])).stdout, 'h1:l4AoVm6xKAVGsfo8J_ttCOC6Odgq3GJLHg5NtAdOAr0\n')
  const usage = await minkms(['server'], {}, [2])
  t.equal(usage.code, 2)
  t.match(usage.stderr, /^minkms server: missing data directory \(DIR\)\n\nUsage:/)
  t.equal((await minkms(['bogus'], {}, [2])).code, 2)
})

t.test('a refused config: one FATAL line, exit 1', async (t) => {
  const env = await testEnv(t)
  const r = await minkms(['server', freshDir(env, 'data'), '--address', '127.0.0.1:0', '--config', config(env, 'version: v1\n')], { MINIO_KMS_HSM_KEY: TEST_HSM_KEY }, [1])
  t.equal(r.code, 1)
  const lines = r.stdout.trimEnd().split('\n')
  t.equal(lines.length, 2)
  t.match(lines[0], /INFO {2}Starting server instance\.\.\.$/)
  t.match(lines[1], FATAL)
  t.match(lines[1], / FATAL kms: no TLS configuration provided$/)
  const noHsm = await minkms(['server', freshDir(env, 'data'), '--address', '127.0.0.1:0', '--config', config(env, configYaml(env.pki))], {}, [1])
  t.match(noHsm.stdout, / FATAL kms: no HSM provided\n$/)
})

t.test('a wrong auth.key: FATAL line, exit 1', async (t) => {
  const env = await testEnv(t)
  const ext = await startNode(env)
  const root = clientFor(env, ext.emu.host, ext.emu.rootApiKey)
  await root.createEnclave('e')
  await root.createKey('e', 'k')
  const wrong = generateApiKey('k1').key
  const r = await minkms(['server', freshDir(env, 'data'), '--address', '127.0.0.1:0', '--config',
    config(env, configYaml(env.pki, { servers: [ext.emu.host], enclave: 'e', key: 'k', apiKey: wrong }))], { MINIO_KMS_HSM_KEY: TEST_HSM_KEY }, [1])
  const fatal = r.stdout.trimEnd().split('\n').at(-1) ?? ''
  t.match(fatal, FATAL)
  t.match(fatal, /FATAL kms: failed to seal the root encryption key with HSM 'hsm:minio:minkms': .*access denied: insufficient permissions$/)
  t.notMatch(r.stdout + r.stderr, wrong.slice(3), 'the API key is not printed')
  t.notMatch(r.stdout + r.stderr, TEST_HSM_KEY.slice(11), 'the HSM key is not printed')
})

/** Collects a child's stdout; `until(line)` resolves with the text once `line` was printed. */
function collect (child: SpawnedProcess): { text: () => string, until: (line: string) => Promise<string> } {
  let text = ''
  const waiters: Array<{ line: string, resolve: (t: string) => void }> = []
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    text += chunk
    for (const w of waiters.splice(0)) {
      if (text.split('\n').includes(w.line)) w.resolve(text)
      else waiters.push(w)
    }
  })
  return {
    text: () => text,
    until: async (line) => await new Promise<string>((resolve, reject) => {
      if (text.split('\n').includes(line)) { resolve(text); return }
      waiters.push({ line, resolve })
      child.exited.then(() => reject(new Error(`exited before '${line}':\n${text}`)), reject)
    })
  }
}

t.test('SIGTERM stops the server with exit 0; crash-after exits 2', async (t) => {
  const env = await testEnv(t)
  const data = freshDir(env, 'data')
  const cfg = config(env, configYaml(env.pki))
  const child = processRunner.spawn(process.execPath, [...NODE_ARGS, 'server', data, '--address', '127.0.0.1:0', '--config', cfg], {
    env: { ...process.env, MINIO_KMS_HSM_KEY: TEST_HSM_KEY, MINKMS_EMU_FAULTS_DIR: freshDir(env, 'nofaults') }
  })
  t.teardown(() => child.kill('SIGKILL'))
  const out = collect(child)
  const text = await out.until('=> Server is up and running...')
  const endpoint = /^Endpoint {7}https:\/\/(.*)$/m.exec(text)?.[1] ?? ''
  t.equal(await clientFor(env, endpoint).ready(), true)
  child.kill('SIGTERM')
  t.same(await child.exited, { code: 0, signal: null })
  t.match(out.text(), /INFO {2}Stopping server \(received SIGTERM\)\.\.\.\n.*INFO {2}Server stopped\. Goodbye\.\n$/)

  const faults = freshDir(env, 'faults')
  writeFileSync(join(faults, 'crash-after'), '0.1')
  const crash = processRunner.spawn(process.execPath, [...NODE_ARGS, 'server', data, '--address', '127.0.0.1:0', '--config', cfg], {
    env: { ...process.env, MINIO_KMS_HSM_KEY: TEST_HSM_KEY, MINKMS_EMU_FAULTS_DIR: faults }
  })
  t.teardown(() => crash.kill('SIGKILL'))
  const stderr = (async () => { let s = ''; crash.stderr?.setEncoding('utf8'); for await (const c of crash.stderr ?? []) s += c as string; return s })()
  crash.stdout?.resume()
  t.same(await crash.exited, { code: 2, signal: null })
  t.match(await stderr, /^panic: minkms-emulator: fault crash-after/m)
})

t.test('process errors carry the exit code', async (t) => {
  await t.rejects(minkms(['bogus']), { code: 'SHR_PROCESS_FAILED', exitCode: 2 })
})
