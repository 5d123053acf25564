/**
 * An offline session as the SDK sends it, over a real socket: 500 comments written while the
 * server is down, kept in the device's store across an app restart, then sent as one sync step 2
 * when the server is back. The write guard's work budget takes it (it is several times the
 * budget this used to be refused by): every comment is acknowledged, on the server and in storage.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_BUDGET, scanUpdate } from '../../core/guard/budget.ts'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { MemoryStore } from '../../client/stores/memory.ts'
import { readThreads } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { TEST_RECONNECT, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const COMMENTS = 500
const PER_THREAD = 10
/** The struct budget that refused such a session before (2,000 structs). */
const OLD_BUDGET = 2_000

describe('an offline session of the SDK, as one sync step 2', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close()
    for (const server of servers.splice(0)) await server.dispose()
  })

  it(`takes ${COMMENTS} comments written offline (${COMMENTS / PER_THREAD} threads) and acknowledges them all`, async () => {
    const first = await startServer()
    const { port } = first.server
    const token = await first.token('ana')
    await first.stop()
    const store = new MemoryStore()
    const url = `ws://127.0.0.1:${port}`

    // The app, with the server down: 500 comments of about 100 characters, every third with a mention.
    const offline = await createParleyClient({ url, token, store, reconnect: TEST_RECONNECT })
    const handle = offline.comments('offline-session')
    let threadId = ''
    for (let c = 0; c < COMMENTS; c++) {
      const text = `comment ${c}: `.padEnd(100, 'lorem ipsum ')
      const body = c % 3 === 0 ? [{ text: text.slice(0, 60) }, { text: '@ben', mention: 'ben' }, { text: text.slice(60) }] : text
      if (c % PER_THREAD === 0) threadId = handle.createThread(body).threadId
      else handle.reply(threadId, body)
    }
    await offline.close()
    const session = await store.load('comments/offline-session')
    const scan = scanUpdate(session!, { ...DEFAULT_BUDGET, structs: Number.MAX_SAFE_INTEGER, entries: Number.MAX_SAFE_INTEGER })
    expect(scan.ok && scan.value.structs).toBeGreaterThan(2 * OLD_BUDGET)

    // The app starts again over its store; the server comes back on the same port.
    const restarted = await createParleyClient({ url, token, store, reconnect: TEST_RECONNECT })
    clients.push(restarted)
    const errors: unknown[] = []
    restarted.on('error', (error) => errors.push(error))
    const again = restarted.comments('offline-session')
    await waitFor(() => again.threads().length === COMMENTS / PER_THREAD, 'the offline comments read from the store')
    const second = await startServer({ dataDir: first.dataDir, secret: first.secret, port })
    servers.push(second)
    await waitAcknowledged(again, 'the offline session acknowledged')
    expect(errors).toEqual([])

    const count = (threads: ReturnType<typeof readThreads>) => threads.reduce((sum, thread) => sum + thread.comments.length, 0)
    const server = second.server.hocuspocus.documents.get('comments/offline-session')
    expect(count(readThreads(server!))).toBe(COMMENTS)
    const stored = await second.server.storage.documents.load('comments/offline-session')
    expect(count(readThreads(rebuild(stored)))).toBe(COMMENTS)
    // One message carried it: one row in the log.
    expect(stored.log).toHaveLength(1)
  })
})
