/**
 * A flooding client, run as its own process by limits.test.ts so that its loop does not slow the
 * measuring test. It floods while flooding is on (stdin lines `flood` and `pause` switch it;
 * `exit` ends it), and whenever the server refuses and closes its session, it opens the session
 * again at once (as an abusive client would). Prints `ready` once synced, and at the end one
 * JSON line: { sent, acknowledged, refusals }.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { createThread, markRead } from '../../protocol/index.ts'

import { createInterface } from 'node:readline'

const [url, token, name] = process.argv.slice(2)
if (!url || !token || !name) throw new Error('usage: flooder.ts <url> <token> <document>')
let flooding = false
let running = true
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'flood') flooding = true
  if (line === 'pause') flooding = false
  if (line === 'exit') running = false
})

const doc = new Y.Doc()
const socket = new HocuspocusProviderWebsocket({ url, delay: 10, minDelay: 0, maxDelay: 50 })
let acknowledged = 0
let refusals = 0
const provider = new HocuspocusProvider({
  websocketProvider: socket,
  name,
  document: doc,
  token,
  onStateless: ({ payload }) => {
    if ((JSON.parse(payload) as { type?: string }).type !== 'parley.error') return
    refusals++
    // Abuse: open the session again right away.
    provider.detach()
    provider.attach()
  },
})
provider.attach()
socket.on('message', () => undefined)
provider.on('unsyncedChanges', ({ number }: { number: number }) => {
  if (number === 0) acknowledged++
})

await new Promise<void>((resolve) => provider.on('synced', ({ state }: { state: boolean }) => state && resolve()))
const { threadId } = createThread({ doc, userId: 'flooder' }, 'flood')
/** Updates sent per second: a hundred times the limit, without a busy loop in this process. */
const FLOOD_PER_SECOND = 1_000
let sent = 0
console.log('ready')
while (running) {
  if (flooding) {
    for (let i = 0; i < FLOOD_PER_SECOND / 100; i++) {
      markRead({ doc, userId: 'flooder' }, threadId)
      sent++
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 10))
}
console.log(JSON.stringify({ sent, acknowledged, refusals }))
provider.destroy()
socket.destroy()
process.exit(0)
