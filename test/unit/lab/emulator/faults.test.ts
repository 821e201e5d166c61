import t from 'tap'
import { describeFaults, readFaults } from '../../../lab/emulator/faults.js'

t.test('no directory means no faults', async (t) => {
  t.same(await readFaults('/nonexistent/faults', () => {}), {})
})

t.test('reads every switch', async (t) => {
  const dir = t.testdir({ 'slow-start': '1.5\n', 'crash-after': '', 'never-ready': '', 'exit-1': 'x', flap: '0.25', 'refuse-peers': '', 'external-hsm-down': '' })
  const f = await readFaults(dir, () => {})
  t.same(f, { slowStartMs: 1500, crashAfterMs: 5000, flapMs: 250, neverReady: true, exit1: true, refusePeers: true, externalHsmDown: true })
  t.same(describeFaults(f), ['exit-1', 'slow-start=1.5s', 'crash-after=5s', 'never-ready', 'flap=0.25s', 'refuse-peers', 'external-hsm-down'])
})

t.test('exit-1-if-config holds the text to react to; empty is ignored', async (t) => {
  t.same(await readFaults(t.testdir({ 'exit-1-if-config': 'any: 17m\n' }), () => {}), { exit1IfConfig: 'any: 17m' })
  t.same(describeFaults({ exit1IfConfig: 'x' }), ['exit-1-if-config'])
  const warnings: string[] = []
  t.same(await readFaults(t.testdir({ 'exit-1-if-config': '' }), (m) => warnings.push(m)), {})
  t.match(warnings, [/exit-1-if-config' ignored/])
})

t.test('bad numbers are ignored with a warning', async (t) => {
  const warnings: string[] = []
  const f = await readFaults(t.testdir({ 'slow-start': 'soon' }), (m) => warnings.push(m))
  t.same(f, {})
  t.match(warnings, [/slow-start' ignored/])
})
