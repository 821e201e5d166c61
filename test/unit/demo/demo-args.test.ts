// `npm run demo -- …`: the flags, their defaults, and refusals before anything boots.
import t from 'tap'
import { parseDemoArgs } from '../../demo/demo-args.js'

t.test('flags and defaults', async (t) => {
  t.same(parseDemoArgs([], '/here'), { args: { keep: false, id: 0 } }, 'no flags: lab 0, torn down, no report')
  t.same(parseDemoArgs(['--keep', '--report', 'out/r.json', '--id', '7'], '/here'), { args: { keep: true, id: 7, report: '/here/out/r.json' } }, 'a relative --report resolves against the cwd')
  t.same(parseDemoArgs(['--report', '/abs/r.json'], '/here'), { args: { keep: false, id: 0, report: '/abs/r.json' } })
  t.same(parseDemoArgs(['--events', 'e.json', '--min-healthy-time', '0s'], '/here'), { args: { keep: false, id: 0, events: '/here/e.json', minHealthyTime: '0s' } },
    'the events file and the hold the migration is asked for')
  t.same(parseDemoArgs(['--stable-for', '5s'], '/here'), { args: { keep: false, id: 0, stableFor: '5s' } }, "the agents' stability window the lab is booted with")
})

t.test('help and bad arguments', async (t) => {
  const help = parseDemoArgs(['--help'], '/')
  t.ok('help' in help && /--keep[\s\S]*--report <file>[\s\S]*--id <id>/.test(help.help), 'help lists every flag')
  t.match(parseDemoArgs(['--bogus'], '/'), { error: /unknown option '--bogus'/ })
  t.match(parseDemoArgs(['--id', '255'], '/'), { error: /integer from 0 to 254/ })
  t.match(parseDemoArgs(['--report'], '/'), { error: /argument missing/ })
  t.match(parseDemoArgs(['--min-healthy-time', '1.5s'], '/'), { error: /expected a duration/ })
  t.match(parseDemoArgs(['--stable-for', 'five'], '/'), { error: /expected a duration/ })
  t.match(parseDemoArgs(['--stable-for', '30s'], '/'), { error: /shorter than deadline.*the lab agents' deadline is 30s/ })
  t.match(parseDemoArgs(['extra'], '/'), { error: /too many arguments|unknown command/ })
})
