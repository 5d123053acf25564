/**
 * A flooding client for the `flood` scenario and the flood test (test/timing/limits.test.ts), run
 * as its own process so that its loop does not weigh on what is measured. It opens the document with a standard
 * `@hocuspocus/provider`, prepares `count` valid comments (comment `i` from 1 reads
 * `f<i>`, a new thread every {@link THREAD_SIZE}) as Update frames, one update each, and while flooding sends them as fast as its socket takes them
 * (whenever less than {@link MAX_BUFFERED_BYTES} wait to be sent). Preparing first keeps the flood
 * itself cheap: what is measured is the server, not the flooder's Yjs work on a shared machine.
 *
 * `node bench/lib/flooder.ts <url> <token> <document> <userId> <count>`; prints `ready` once prepared.
 * stdin: `flood` starts (again), `pause` pauses, `half` marks the middle of the flood period,
 * `exit` stops and prints one JSON line {@link FlooderReport}.
 */
import { createInterface } from 'node:readline'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { createThread, reply } from '../../protocol/comments/index.ts'

export interface FlooderReport {
  /** Update frames sent. */
  sent: number
  /** SyncStatus(1) received for them. */
  acknowledged: number
  /** Acknowledged when `half` arrived: the second half's rate is the sustained one. */
  acknowledgedAtHalf: number
  /** Times the socket closed (a cut). */
  closes: number
  /** `parley.error` messages received. */
  refusals: number
  /** When the first and the last acknowledgement arrived (ms since the epoch; 0 before any). */
  firstAckAt: number
  lastAckAt: number
}

/** Comments per thread: a reply costs more as its thread grows. */
const THREAD_SIZE = 200
/** Frames sent per turn of the loop while the socket takes more. */
const BATCH = 200
/** The flooder sends while its socket's send buffer holds less than this. */
const MAX_BUFFERED_BYTES = 1024 * 1024
const SYNC = 0
const SYNC_UPDATE = 2
const SYNC_STATUS = 8

const [url, token, documentName, userId, count] = process.argv.slice(2)
if (!url || !token || !documentName || !userId || !count) throw new Error('usage: flooder.ts <url> <token> <document> <userId> <count>')
const prepared = Number(count)

const doc = new Y.Doc()
const socket = new HocuspocusProviderWebsocket({ url, delay: 100, minDelay: 100, maxDelay: 1_000 })
const report: FlooderReport = { sent: 0, acknowledged: 0, acknowledgedAtHalf: 0, closes: 0, refusals: 0, firstAckAt: 0, lastAckAt: 0 }
const provider = new HocuspocusProvider({
  websocketProvider: socket,
  name: documentName,
  document: doc,
  token,
  onStateless: ({ payload }) => {
    if (payload.includes('"parley.error"')) report.refusals++
  },
})
socket.on('close', () => report.closes++)
provider.attach()
await new Promise<void>((resolve) => provider.on('synced', ({ state }: { state: boolean }) => state && resolve()))
// The handshake's own SyncStep2 is acknowledged too: count from after it.
await new Promise<void>((resolve) => {
  if (provider.unsyncedChanges === 0) resolve()
  else provider.on('unsyncedChanges', ({ number }: { number: number }) => number === 0 && resolve())
})

// Prepared without sending: the provider ignores transactions whose origin is itself.
const frames: Array<Uint8Array<ArrayBuffer>> = []
doc.on('update', (update: Uint8Array, origin: unknown) => {
  if (origin !== provider) return
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, documentName)
  encoding.writeVarUint(encoder, SYNC)
  encoding.writeVarUint(encoder, SYNC_UPDATE)
  encoding.writeVarUint8Array(encoder, update)
  frames.push(new Uint8Array(encoding.toUint8Array(encoder)))
})
let threadId = ''
for (let i = 1; i <= prepared; i++) {
  doc.transact(() => {
    if ((i - 1) % THREAD_SIZE === 0) threadId = createThread({ doc, userId }, `f${i}`).threadId
    else reply({ doc, userId }, threadId, `f${i}`)
  }, provider)
}
socket.on('message', ({ data }: { data: ArrayBuffer }) => {
  const decoder = decoding.createDecoder(new Uint8Array(data))
  decoding.readVarString(decoder)
  if (decoding.readVarUint(decoder) !== SYNC_STATUS || decoding.readVarUint(decoder) !== 1) return
  report.acknowledged++
  report.lastAckAt = Date.now()
  if (report.firstAckAt === 0) report.firstAckAt = report.lastAckAt
})

let flooding = false
let running = true
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'flood') flooding = true
  if (line === 'pause') flooding = false
  if (line === 'half') report.acknowledgedAtHalf = report.acknowledged
  if (line === 'exit') running = false
})
console.log('ready')
while (running) {
  const ws = socket.webSocket
  if (flooding && ws && ws.bufferedAmount < MAX_BUFFERED_BYTES && report.sent < frames.length) {
    for (let i = 0; i < BATCH && report.sent < frames.length; i++) ws.send(frames[report.sent++]!)
    await new Promise((resolve) => setImmediate(resolve))
  } else {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
console.log(JSON.stringify(report))
provider.destroy()
socket.destroy()
process.exit(0)
