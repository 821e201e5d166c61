import t from 'tap'
import { followArgs, parseShownCursor, readArgs, tailCursorArgs } from '../../../../agent/os/journalctl-args.js'

const FIELDS = '--output-fields=MESSAGE,MESSAGE_ID,_SYSTEMD_UNIT,_SYSTEMD_INVOCATION_ID,UNIT,INVOCATION_ID,_PID,PRIORITY'

t.test('tail cursor of the whole journal', async (t) => {
  t.same(tailCursorArgs(), ['--show-cursor', '-n', '0', '-q', '--no-pager'])
  t.equal(parseShownCursor('-- cursor: s=6dc7;i=36;b=1caf;m=6eed2b2a;t=66157a8e731c8;x=c0d4\n'), 's=6dc7;i=36;b=1caf;m=6eed2b2a;t=66157a8e731c8;x=c0d4')
  t.equal(parseShownCursor('-- No entries --\n'), undefined)
})

t.test('follow: --no-tail (else only the last 10 entries after the cursor), --all, the cursor', async (t) => {
  t.same(followArgs('minkms.service', 's=1'), ['-u', 'minkms.service', '-o', 'json', '--all', '-q', '--no-pager', FIELDS, '--after-cursor=s=1', '--follow', '--no-tail'])
  t.notOk(followArgs('minkms.service').some((a) => a.startsWith('--after-cursor') || a === '-n'), 'no cursor: from the beginning, never -n')
  t.notOk(followArgs('minkms.service', '').some((a) => a.startsWith('--after-cursor')), "'' (empty journal) is no cursor")
})

t.test('read: cursor and limit', async (t) => {
  t.same(readArgs('minkms.service', 's=1', 5).slice(-3), ['--after-cursor=s=1', '-n', '5'])
  t.notOk(readArgs('minkms.service').includes('-n'))
})
