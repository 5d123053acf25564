/**
 * A flooding client, run as its own process by limits.test.ts so that its busy loop does not slow
 * the measuring test: it writes as fast as it can for a while, and whenever the server refuses
 * and closes its session, it opens the session again at once (as an abusive client would).
 * Prints one JSON line: { sent, acknowledged, refusals }.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { createThread, markRead } from '../../protocol/index.ts'

const [url, token, name, durationText] = process.argv.slice(2)
if (!url || !token || !name || !durationText) throw new Error('usage: flooder.ts <url> <token> <document> <ms>')
const duration = Number(durationText)

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
const end = Date.now() + duration
while (Date.now() < end) {
  for (let i = 0; i < FLOOD_PER_SECOND / 100; i++) {
    markRead({ doc, userId: 'flooder' }, threadId)
    sent++
  }
  await new Promise((resolve) => setTimeout(resolve, 10))
}
console.log(JSON.stringify({ sent, acknowledged, refusals }))
provider.destroy()
socket.destroy()
process.exit(0)
