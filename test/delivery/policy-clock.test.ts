/**
 * Contract additions, "Delivery", with an injected clock: the push channel (core/delivery/push.ts)
 * on real SQLite storage and a local APNs peer (HTTP/2 + TLS), its outbox rows claimed and settled
 * as the outbox does, time moved by the test. The digest sends the first push of a window at
 * once, holds later ones to the window's end and sends them as one summary (a mention bypasses
 * it); quiet hours in the user's time zone hold a push until they end (another zone's user at the
 * same instant is pushed; `urgent` bypasses them); a delivery that keeps failing backs off
 * exponentially and is `dead` after PUSH_MAX_ATTEMPTS, with one log line and the metrics.
 */
import { rmSync } from 'node:fs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPushDeliverer, type PushDeliverer } from '../../core/delivery/push.ts'
import { PUSH_MAX_ATTEMPTS, PUSH_RETRY_BASE_MS } from '../../core/delivery/policy.ts'
import { effectivePreferences, type StoredPreferences } from '../../core/notifications/preferences.ts'
import type { ActivityInput, NotificationPriority } from '../../core/storage/notification-types.ts'
import type { Storage } from '../../core/storage/types.ts'
import { createApnsSender } from '../../server/delivery/apns.ts'
import { createPushMetrics } from '../../server/observability/push-metrics.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { tempDir } from '../helpers/server.ts'

/** 2030-12-04 13:00 UTC: storage queues rows at the real time, so the injected clock runs ahead of it. */
const T0 = Date.UTC(2030, 11, 4, 13, 0)
/** The outbox lease the test claims rows with (ms). */
const LEASE_MS = 30_000

describe('the push policy with an injected clock', () => {
  let dir: string
  let storage: Storage
  let peer: ApnsPeer
  let push: PushDeliverer
  let clock: number
  let logLines: Array<Record<string, unknown>>
  let registry: Registry
  const stored = new Map<string, StoredPreferences>()

  beforeEach(async () => {
    dir = tempDir('parley-policy-')
    storage = SqliteStorage.inDataDir(dir)
    peer = await startApnsPeer()
    clock = T0
    logLines = []
    registry = new Registry()
    stored.clear()
    push = createPushDeliverer({
      storage,
      senders: [
        createApnsSender({
          key: peer.key,
          keyId: peer.keyId,
          teamId: peer.teamId,
          topic: peer.topic,
          production: false,
          host: '127.0.0.1',
          port: peer.port,
          ca: [peer.ca],
        }),
      ],
      preferences: async (userId) => effectivePreferences(stored.get(userId) ?? null),
      isPresent: async () => false,
      nameOf: async (userId) => userId.toUpperCase(),
      logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) }),
      metrics: createPushMetrics(registry),
      now: () => clock,
      random: () => 1,
    })
  })
  afterEach(async () => {
    await push.close()
    await peer.close()
    await storage.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const device = async (userId: string, token: string) => {
    await storage.devices.register({ id: `d_${token}`, userId, platform: 'apns', token, createdAt: clock, lastSentAt: null }, 20)
  }

  /** Records one activity for `userId` at the clock's time, queued on the push channel (each call needs its own `commentId`: a comment is handled once). */
  const activity = async (
    userId: string,
    o: { kind: 'reply' | 'mention'; id: string; commentId: string; threadId: string; priority?: NotificationPriority; actor?: string },
  ) => {
    const input: ActivityInput = {
      key: { kind: o.kind, subjectId: 's1', commentId: o.commentId, recipient: userId },
      commentId: o.commentId,
      notificationId: o.id,
      fold: o.kind !== 'mention',
      kind: o.kind,
      priority: o.priority ?? (o.kind === 'mention' ? 'high' : 'normal'),
      threadId: o.threadId,
      actor: o.actor ?? 'ana',
      preview: `text of ${o.commentId}`,
      at: clock,
    }
    await storage.notifications.record({ mentions: [], comments: [{ subjectId: 's1', commentId: o.commentId, activities: [input] }], channels: ['push'] })
  }

  /** One outbox round at the clock's time: claims the due push rows, delivers them, settles them; the rows' outcomes by notification id. */
  const round = async (): Promise<Record<string, string | number | null>> => {
    const rows = await storage.notifications.claimOutbox('push', clock, LEASE_MS, 100)
    const outcomes = await push.deliver(rows)
    const byId: Record<string, string | number | null> = {}
    for (const [i, row] of rows.entries()) {
      const outcome = outcomes[i]
      if (outcome === null || outcome === undefined) {
        await storage.notifications.outboxDelivered([row], clock)
        byId[row.notificationId] = null
      } else if (typeof outcome === 'string') {
        throw new Error(`unexpected failure of ${row.notificationId}: ${outcome}`)
      } else {
        await storage.notifications.outboxFailed(row, outcome.error, outcome.retryAt)
        byId[row.notificationId] = outcome.retryAt
      }
    }
    return byId
  }

  const metric = async (name: string) => (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'))

  it('digest: the first push of a window at once, later ones as one summary at its end; a mention bypasses it', async () => {
    stored.set('ben', { digestSeconds: 300 })
    await device('ben', 'b0b0')
    await activity('ben', { kind: 'reply', id: 'r_t1_ben', commentId: 'c1', threadId: 't1' })
    expect(await round()).toEqual({ r_t1_ben: null })
    expect(peer.requests.map((r) => r.payload.aps.alert)).toEqual([{ title: 'ANA replied', body: 'text of c1' }])

    // 10 s later: another reply in t1 (folds, a new round), then one in t2: both held to the window's end.
    clock = T0 + 10_000
    await activity('ben', { kind: 'reply', id: 'r_t1_ben', commentId: 'c2', threadId: 't1', actor: 'cid' })
    clock = T0 + 11_000
    await activity('ben', { kind: 'reply', id: 'r_t2_ben', commentId: 'c3', threadId: 't2' })
    const windowEnd = T0 + 300_000
    expect(await round()).toEqual({ r_t1_ben: windowEnd, r_t2_ben: windowEnd })
    expect(peer.requests).toHaveLength(1)

    // A mention inside the window goes at once (and does not move the end of the window the held ones wait for).
    clock = T0 + 20_000
    await activity('ben', { kind: 'mention', id: 'm_c4_ben', commentId: 'c4', threadId: 't2' })
    expect(await round()).toEqual({ m_c4_ben: null })
    expect(peer.requests.map((r) => r.payload.aps.alert?.title)).toEqual(['ANA replied', 'ANA mentioned you'])

    // Just before the end nothing is due; at the end one summary carries both held notifications.
    clock = windowEnd - 1
    expect(await round()).toEqual({})
    clock = windowEnd
    expect(await round()).toEqual({ r_t1_ben: null, r_t2_ben: null })
    expect(peer.requests).toHaveLength(3)
    const summary = peer.requests[2]!
    expect(summary.payload.aps.alert).toEqual({ title: '3 new replies', body: 'text of c3' })
    expect(summary.headers['apns-collapse-id']).toBe('digest_ben')
    for (const id of ['r_t1_ben', 'r_t2_ben']) {
      expect(await storage.deliveries.ofNotification('ben', id)).toMatchObject([{ status: 'sent', reason: 'digest', deviceId: 'd_b0b0' }])
    }
  })

  it('quiet hours: held in the user’s time zone until they end, pushed at once in another zone; urgent bypasses them', async () => {
    // 23:30 in Paris is 17:30 in New York: inside Paris's 22:00–07:00, outside New York's.
    clock = Date.UTC(2030, 11, 4, 22, 30)
    const quietHours = { start: '22:00', end: '07:00' }
    stored.set('ben', { digestSeconds: 0, quietHours: { ...quietHours, timeZone: 'Europe/Paris' } })
    stored.set('cid', { digestSeconds: 0, quietHours: { ...quietHours, timeZone: 'America/New_York' } })
    await device('ben', 'b0b0')
    await device('cid', 'c1c1')
    await activity('ben', { kind: 'reply', id: 'r_t1_ben', commentId: 'c1', threadId: 't1' })
    await activity('ben', { kind: 'mention', id: 'm_c1_ben', commentId: 'c2', threadId: 't1' })
    await activity('ben', { kind: 'reply', id: 'r_t2_ben', commentId: 'c3', threadId: 't2', priority: 'urgent' })
    await activity('cid', { kind: 'reply', id: 'r_t1_cid', commentId: 'c4', threadId: 't1' })
    // 07:00 in Paris the next morning is 06:00 UTC.
    const end = Date.UTC(2030, 11, 5, 6, 0)
    expect(await round()).toEqual({ r_t1_ben: end, m_c1_ben: end, r_t2_ben: null, r_t1_cid: null })
    expect(peer.requests.map((r) => r.token).sort()).toEqual(['b0b0', 'c1c1'])
    // Priority 10 for urgent, 5 for a normal reply (contract additions, "Devices").
    expect(Object.fromEntries(peer.requests.map((r) => [r.token, r.headers['apns-priority']]))).toEqual({ b0b0: '10', c1c1: '5' })
    expect(await storage.deliveries.ofNotification('ben', 'r_t1_ben')).toEqual([])

    clock = end - 1
    expect(await round()).toEqual({})
    clock = end
    expect(await round()).toEqual({ r_t1_ben: null, m_c1_ben: null })
    expect(peer.requests.filter((r) => r.token === 'b0b0')).toHaveLength(3)
    expect(await storage.deliveries.ofNotification('ben', 'm_c1_ben')).toMatchObject([{ status: 'sent', attempts: 1 }])
  })

  it(`backs off exponentially and gives up after ${PUSH_MAX_ATTEMPTS} attempts: dead, one log line, the metrics`, async () => {
    stored.set('ben', { digestSeconds: 0 })
    await device('ben', 'b0b0')
    peer.answer = () => ({ status: 500, reason: 'InternalServerError' })
    await activity('ben', { kind: 'mention', id: 'm_c1_ben', commentId: 'c1', threadId: 't1' })
    const delays: number[] = []
    for (let attempt = 1; attempt < PUSH_MAX_ATTEMPTS; attempt++) {
      const { m_c1_ben: retryAt } = await round()
      expect(typeof retryAt, `attempt ${attempt}`).toBe('number')
      expect(await storage.deliveries.ofNotification('ben', 'm_c1_ben')).toMatchObject([{ status: 'failed', attempts: attempt }])
      delays.push((retryAt as number) - clock)
      // Not due before its time.
      clock = (retryAt as number) - 1
      expect(await round()).toEqual({})
      clock = retryAt as number
    }
    // random() = 1: the top of each jittered window, doubling from the base.
    expect(delays).toEqual(delays.map((_, i) => PUSH_RETRY_BASE_MS * 2 ** i))
    expect(await round()).toEqual({ m_c1_ben: null })
    expect(await storage.deliveries.ofNotification('ben', 'm_c1_ben')).toMatchObject([
      { status: 'dead', attempts: PUSH_MAX_ATTEMPTS, reason: `gave up after ${PUSH_MAX_ATTEMPTS} attempts: InternalServerError` },
    ])
    expect(peer.requests).toHaveLength(PUSH_MAX_ATTEMPTS)
    // Nothing more is tried.
    clock += 3_600_000
    expect(await round()).toEqual({})
    expect(peer.requests).toHaveLength(PUSH_MAX_ATTEMPTS)
    const dead = logLines.filter((l) => l.msg === 'a push delivery is dead')
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ userId: 'ben', deviceId: 'd_b0b0', platform: 'apns', notificationIds: ['m_c1_ben'] })
    expect(await metric('parley_push_dead_total')).toContain('parley_push_dead_total{platform="apns"} 1')
    expect(await metric('parley_push_deliveries_total')).toContain(`parley_push_deliveries_total{platform="apns",outcome="retry"} ${PUSH_MAX_ATTEMPTS}`)
    expect((await metric('parley_push_send_seconds')).some((l) => l.startsWith(`parley_push_send_seconds_count{platform="apns"} ${PUSH_MAX_ATTEMPTS}`))).toBe(
      true,
    )
  })

  it('counts sends and skips by reason in the metrics', async () => {
    stored.set('ben', { digestSeconds: 0 })
    stored.set('cid', { digestSeconds: 0, kinds: { reply: { push: false } } })
    await device('ben', 'b0b0')
    await device('cid', 'c1c1')
    await activity('ben', { kind: 'reply', id: 'r_t1_ben', commentId: 'c1', threadId: 't1' })
    await activity('cid', { kind: 'reply', id: 'r_t1_cid', commentId: 'c2', threadId: 't1' })
    await activity('ben', { kind: 'reply', id: 'r_t2_ben', commentId: 'c3', threadId: 't2' })
    await storage.notifications.markRead('ben', ['r_t2_ben'], clock, [])
    expect(await round()).toEqual({ r_t1_ben: null, r_t1_cid: null, r_t2_ben: null })
    const lines = await metric('parley_push_deliveries_total')
    expect(lines).toContain('parley_push_deliveries_total{platform="apns",outcome="sent"} 1')
    expect(lines).toContain('parley_push_deliveries_total{platform="apns",outcome="skipped_channel_off"} 1')
    expect(lines).toContain('parley_push_deliveries_total{platform="apns",outcome="skipped_read"} 1')
    expect(await storage.deliveries.ofNotification('ben', 'r_t2_ben')).toMatchObject([{ status: 'skipped', reason: 'read' }])
  })
})
