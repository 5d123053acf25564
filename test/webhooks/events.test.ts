/**
 * The events of the contract additions (issue 17): `thread.created`, `thread.reopened`,
 * `feed.item.created` and `notification.delivered`, in process and as signed webhooks, each once
 * per fact: a second detector with a stale view (another instance, a rescan) records nothing new
 * and announces nothing, a repeated feed item announces nothing.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import * as Y from 'yjs'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, reply, setResolved } from '../../protocol/index.ts'
import { createAccessResolver } from '../../core/access/resolve.ts'
import { createEvents, type ParleyEvent } from '../../core/events.ts'
import { snapshotAll } from '../../core/mentions/snapshot.ts'
import { createDetector } from '../../core/notifications/detector.ts'
import { BACKENDS } from '../access/backends.ts'
import { startApnsPeer } from '../helpers/apns-peer.ts'
import { acknowledged } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'
import { startReceiver, type Receiver } from './receiver.ts'

const SECRET = 'additions-webhook-secret'

describe('events of the contract additions', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  async function world(options: Parameters<typeof startWorld>[0] = {}): Promise<{ world: World; receiver: Receiver }> {
    const receiver = await startReceiver(SECRET, () => ({ status: 200 }))
    cleanup.push(() => receiver.close())
    const w = await startWorld({ ...options, webhook: { url: receiver.url, secret: SECRET }, webhooks: { pollMs: 50 } })
    cleanup.push(() => w.dispose())
    await registerSubject(w.s, 'post-1')
    return { world: w, receiver }
  }
  const webhooksOf = (receiver: Receiver, type: string) => receiver.received.filter((r) => r.event.type === type)

  it('announce a thread once when it starts, a reopening with who reopened, and each feed activity once', async () => {
    const { world: w, receiver } = await world()
    const ana = await w.open('post-1', 'ana')
    const ctx = { doc: ana.doc, userId: 'ana' }
    const first = createThread(ctx, 'first')
    await acknowledged(ana)
    const answer = reply({ doc: ana.doc, userId: 'ana' }, first.threadId, 'a reply', first.commentId)
    await acknowledged(ana)
    setResolved(ctx, first.threadId, true)
    await acknowledged(ana)
    setResolved(ctx, first.threadId, false)
    await acknowledged(ana)
    const second = createThread(ctx, 'second')
    await acknowledged(ana)

    await waitFor(() => w.eventsOf('thread.created').length === 2 && w.eventsOf('thread.reopened').length === 1, 'the thread events')
    expect(w.eventsOf('thread.created').map((e) => e.data)).toEqual([
      { subjectId: 'post-1', threadId: first.threadId, commentId: first.commentId, authorId: 'ana' },
      { subjectId: 'post-1', threadId: second.threadId, commentId: second.commentId, authorId: 'ana' },
    ])
    expect(w.eventsOf('thread.reopened').map((e) => e.data)).toEqual([{ subjectId: 'post-1', threadId: first.threadId, userId: 'ana' }])
    expect(w.eventsOf('thread.resolved')).toHaveLength(1)

    // every comment of the subject is one feed activity: two threads and a reply
    await waitFor(() => w.eventsOf('feed.item.created').length === 3, 'the feed activities')
    const items = w.eventsOf('feed.item.created').map((e) => e.data)
    expect(items.map((i) => [i.type, i.commentId])).toEqual([
      ['thread', first.commentId],
      ['comment', answer.commentId],
      ['thread', second.commentId],
    ])
    expect(items[0]).toMatchObject({ subjectId: 'post-1', threadId: first.threadId, actorIds: ['ana'], summary: null, feedIds: ['subject:post-1'] })

    // the same as webhooks, signed both ways
    await waitFor(
      () =>
        webhooksOf(receiver, 'feed.item.created').length === 3 &&
        webhooksOf(receiver, 'thread.reopened').length === 1 &&
        webhooksOf(receiver, 'thread.created').length === 2,
      'the webhooks',
    )
    expect(webhooksOf(receiver, 'thread.created').map((r) => r.event.id)).toEqual(w.eventsOf('thread.created').map((e) => e.id))
    for (const r of receiver.received) expect([r.parleyValid, r.standardValid]).toEqual([true, true])
    // in order per subject: the reopening after the resolution
    const order = receiver.received.filter((r) => r.event.data.subjectId === 'post-1').map((r) => r.event.type)
    expect(order.indexOf('thread.resolved')).toBeLessThan(order.indexOf('thread.reopened'))
  })

  it('announce an integrator’s feed item once, however often it is posted', async () => {
    const { world: w, receiver } = await world()
    const item = { id: 'launch', type: 'release', actorIds: ['ana'], summary: 'Version 2 is out' }
    for (let i = 0; i < 2; i++) expect((await rest(w.s, 'POST', '/api/v1/feeds/user:ben/items', { bearer: TEST_API_KEY, json: item })).status).toBe(201)
    await waitFor(() => webhooksOf(receiver, 'feed.item.created').length === 1, 'the item’s webhook')
    expect(webhooksOf(receiver, 'feed.item.created')[0]?.event.data).toEqual({
      itemId: 'launch',
      feedIds: ['user:ben'],
      type: 'release',
      subjectId: null,
      threadId: null,
      commentId: null,
      actorIds: ['ana'],
      summary: 'Version 2 is out',
      priority: 'medium',
      at: expect.any(Number),
    })
    // a third post after the first was sent: still nothing new
    expect((await rest(w.s, 'POST', '/api/v1/feeds/user:ben/items', { bearer: TEST_API_KEY, json: item })).status).toBe(201)
    w.s.server.events.emit('thread.resolved', { subjectId: 'after', threadId: 't', userId: null }, 'marker')
    await waitFor(() => receiver.received.some((r) => r.event.id === 'marker'), 'a later event')
    expect(w.eventsOf('feed.item.created')).toHaveLength(1)
  })

  it('announce a push once the service accepted it', async () => {
    const peer = await startApnsPeer()
    cleanup.push(() => peer.close())
    const keyFile = path.join(tempDir('parley-apns-'), 'key.p8')
    writeFileSync(keyFile, peer.key)
    const apns = { keyFile, keyId: peer.keyId, teamId: peer.teamId, topic: peer.topic, production: false, host: '127.0.0.1', port: peer.port }
    const { world: w, receiver } = await world({ push: { apns, webPush: undefined, fcm: undefined }, delivery: { ca: [peer.ca] } })
    const device = await rest<{ id: string }>(w.s, 'POST', '/api/v1/devices', { bearer: await w.s.token('ben'), json: { platform: 'apns', token: 'b0b0' } })
    const ana = await w.open('post-1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'look ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(() => webhooksOf(receiver, 'notification.delivered').length === 1, 'the delivery webhook')
    const [note] = await w.notifications('ben')
    expect(webhooksOf(receiver, 'notification.delivered')[0]?.event.data).toEqual({
      userId: 'ben',
      notificationId: note?.id,
      subjectId: 'post-1',
      channel: 'push',
      deviceId: device.body.id,
      attempts: 1,
      round: note?.notifiedAt,
    })
    expect(peer.requests.filter((r) => r.answered === 200)).toHaveLength(1)
    // after its notification.created, in the subject's order
    const order = receiver.received.map((r) => r.event.type)
    expect(order.indexOf('notification.created')).toBeLessThan(order.indexOf('notification.delivered'))
    expect(w.eventsOf('notification.delivered')).toHaveLength(1)
  })
})

describe.each(BACKENDS)('thread.created from the once-only records: $name', (backend) => {
  it('is announced by the detector that records the first comment, not by another with a stale view, nor for a baseline', async () => {
    const { storage, dispose } = await backend.openStorage()
    try {
      const logger = pino({ level: 'silent' })
      const doc = new Y.Doc()
      const started = createThread({ doc, userId: 'ana' }, 'hello')
      const announced: ParleyEvent[] = []
      const detectorOf = () => {
        const events = createEvents(logger, () => undefined)
        events.onAny((e) => void announced.push(e))
        return createDetector({ storage, access: createAccessResolver({ storage, devMode: true, logger }), events })
      }
      const stale = () => ({ mentions: new Map<string, Set<string>>(), comments: new Set<string>(), events: new Set<string>() })
      // two instances (or a rescan racing a write) detect the same new comment, each with an empty handled set
      await Promise.all(
        [detectorOf(), detectorOf()].map((d) =>
          d.detect(
            's1',
            snapshotAll(doc, () => false),
            stale(),
          ),
        ),
      )
      await detectorOf().detect(
        's1',
        snapshotAll(doc, () => false),
        stale(),
        { rescan: true },
      )
      await waitFor(() => announced.length > 0, 'the announcement')
      expect(announced.filter((e) => e.type === 'thread.created').map((e) => e.data)).toEqual([
        { subjectId: 's1', threadId: started.threadId, commentId: started.commentId, authorId: 'ana' },
      ])
      // a document older than notifications: its threads are recorded as seen, not announced
      const old = new Y.Doc()
      createThread({ doc: old, userId: 'ben' }, 'from before')
      await detectorOf().detect(
        's2',
        snapshotAll(old, () => false),
        stale(),
        { baseline: true },
      )
      expect(announced.filter((e) => e.type === 'thread.created')).toHaveLength(1)
    } finally {
      await dispose()
    }
  })
})
