// A one-shot command's log lines, for a person: level and message first, the other fields kept.
import t from 'tap'
import { humanLogDestination } from '../../../../agent/cli/human-log.js'
import { createLogger } from '../../../../shared/logger.js'

t.test("pino's JSON lines become keyroll-agent: LEVEL: message (fields), masked as before", async (t) => {
  const out: string[] = []
  const log = createLogger({ level: 'warn', base: { name: 'keyroll-agent', node: 'try' }, destination: humanLogDestination({ write: (l: string) => out.push(l) }) })
  log.warn({ component: 'apply', revision: 1, file: '/etc/minkms/config.yaml' }, 'the file holds a secret and would be readable by every user')
  log.error({ key: 'k1:ZXhhbXBsZS1zZWNyZXQtbm90LXJlYWwtMTIzNDU2Nzg5MA' }, 'failed')
  log.info('not shown at warn')
  t.same(out[0], 'keyroll-agent: warning: the file holds a secret and would be readable by every user (component=apply, revision=1, file=/etc/minkms/config.yaml)\n')
  t.match(out[1], /^keyroll-agent: error: failed \(key=/)
  t.notMatch(out[1], 'ZXhhbXBsZS1zZWNyZXQ', 'an API key is masked, as in the JSON lines')
  t.equal(out.length, 2)
})

t.test('a line that is not JSON passes as it is', async (t) => {
  const out: string[] = []
  humanLogDestination({ write: (l: string) => out.push(l) }).write('plain text\n')
  t.same(out, ['plain text\n'])
})
