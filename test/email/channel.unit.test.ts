/**
 * The email channel's decisions, fast: real SQLite storage, a clock the test moves, and a
 * scripted transport in place of SMTP (the SMTP side is covered against a real peer in
 * email.test.ts). Quiet hours hold; a kind switched off records nothing, or settles an attempt
 * already waiting; present users are skipped; a digest of several kinds is one email whose token
 * names them all; a transport that keeps failing is dead after EMAIL_MAX_ATTEMPTS.
 */
import { rmSync } from 'node:fs'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEmailChannel, EMAIL_CHANNEL, EMAIL_MAX_ATTEMPTS, type EmailChannel } from '../../core/email/channel.ts'
import type { EmailMessage, EmailOutcome } from '../../core/email/sender.ts'
import { unsubscribeKinds, verifyUnsubscribeToken } from '../../core/email/unsubscribe.ts'
import { effectivePreferences, type StoredPreferences } from '../../core/notifications/preferences.ts'
import type { ActivityInput, Storage } from '../../core/storage/types.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'

const KEY = 'unit-test-unsubscribe-key'
/** A time after the real clock: rows recorded now are due by it. */
const T0 = Date.UTC(2030, 0, 7, 12, 0)

function activity(kind: string, id: string, at: number, priority: 'high' | 'normal' = 'normal'): ActivityInput {
  return {
    key: { kind, subjectId: 's1', commentId: id, recipient: 'ben' },
    commentId: id,
    notificationId: `${kind}-${id}`,
    fold: false,
    kind,
    priority,
    threadId: 't1',
    actor: 'ana',
    preview: `${kind} ${id}`,
    at,
  }
}

describe('email channel decisions', () => {
  let dir: string
  let storage: Storage
  let channel: EmailChannel
  let now = T0
  let stored: StoredPreferences = {}
  let present = false
  let answers: EmailOutcome[] = []
  const sent: EmailMessage[] = []

  beforeEach(async () => {
    dir = tempDir('parley-email-unit-')
    storage = SqliteStorage.inDataDir(dir)
    now = T0
    stored = {}
    present = false
    answers = []
    sent.length = 0
    await storage.contacts.put('ben', { email: 'ben@example.com' }, T0)
    channel = createEmailChannel({
      storage,
      sender: {
        async send(message) {
          sent.push(message)
          return answers.shift() ?? { status: 'sent' }
        },
        async close() {},
      },
      preferences: async () => effectivePreferences(stored, 60),
      isPresent: async () => present,
      nameOf: async (id) => id.toUpperCase(),
      unsubscribeKey: KEY,
      unsubscribeUrl: (token) => `https://parley.example.com/api/v1/unsubscribe?token=${token}`,
      logger: pino({ level: 'silent' }),
      now: () => now,
      random: () => 0.5,
    })
  })
  afterEach(async () => {
    await storage.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const notify = async (...activities: ActivityInput[]) => {
    await storage.notifications.record({
      mentions: [],
      comments: activities.map((a) => ({ subjectId: 's1', commentId: a.commentId, activities: [a] })),
      channels: [EMAIL_CHANNEL],
    })
  }
  /** What the outbox does (core/notifications/outbox.ts), on the test's clock: claim due rows, deliver, record the outcomes. */
  const drain = async () => {
    const rows = await storage.notifications.claimOutbox(EMAIL_CHANNEL, now, 10_000, 100)
    const outcomes = await channel.deliver(rows)
    await storage.notifications.outboxDelivered(
      rows.filter((_, i) => outcomes[i] === null),
      now,
    )
    for (const [i, row] of rows.entries()) {
      const outcome = outcomes[i]
      if (outcome !== null && outcome !== undefined)
        await storage.notifications.outboxFailed(
          row,
          typeof outcome === 'string' ? outcome : outcome.error,
          typeof outcome === 'string' ? now : outcome.retryAt,
        )
    }
    return outcomes
  }
  const delivery = async (id: string) => (await storage.deliveries.ofNotification('ben', id)).find((d) => d.channel === EMAIL_CHANNEL)

  it('holds through quiet hours, then sends', async () => {
    stored = { quietHours: { start: '11:00', end: '13:00', timeZone: 'UTC' } }
    await notify(activity('mention', 'c1', now, 'high'))
    expect(await drain()).toEqual([{ error: 'quiet hours', retryAt: Date.UTC(2030, 0, 7, 13, 0) }])
    expect(sent).toHaveLength(0)
    stored = {}
    expect(await channel.deliver(await storage.notifications.outboxOf('ben', 'mention-c1'))).toEqual([null])
    expect(sent).toHaveLength(1)
  })

  it('records nothing for a kind with email off, but settles an attempt already waiting once it is turned off', async () => {
    await notify(activity('reply', 'c1', now))
    expect(await drain()).toEqual([null])
    expect(await delivery('reply-c1')).toBeUndefined()

    stored = { kinds: { reply: { email: true } } }
    answers = [{ status: 'retry', reason: '451 later' }]
    await notify(activity('reply', 'c2', now))
    const [held] = await drain()
    expect(held).toMatchObject({ error: 'the email will be retried' })
    expect(await delivery('reply-c2')).toMatchObject({ status: 'failed', attempts: 1, reason: '451 later' })
    stored = { kinds: { reply: { email: false } } }
    expect(await channel.deliver(await storage.notifications.outboxOf('ben', 'reply-c2'))).toEqual([null])
    expect(await delivery('reply-c2')).toMatchObject({ status: 'skipped', reason: 'channel_off' })
    expect(sent).toHaveLength(1)
  })

  it('skips a user active on the subject', async () => {
    present = true
    await notify(activity('mention', 'c1', now, 'high'))
    expect(await drain()).toEqual([null])
    expect(await delivery('mention-c1')).toMatchObject({ status: 'skipped', reason: 'present' })
    expect(sent).toHaveLength(0)
  })

  it('sends a first window of several kinds as one email whose unsubscribe token names every kind', async () => {
    stored = { kinds: { reply: { email: true }, thread: { email: true } } }
    await notify(activity('reply', 'c1', now), activity('thread', 'c2', now))
    expect(await drain()).toEqual([null, null])
    expect(sent).toHaveLength(1)
    const [message] = sent
    expect(message?.subject).toBe('2 new notifications in s1')
    const token = new URL(/^<(.*)>$/.exec(message?.headers['List-Unsubscribe'] ?? '')?.[1] ?? '').searchParams.get('token') ?? ''
    expect(unsubscribeKinds(verifyUnsubscribeToken(KEY, token)?.kind ?? '')).toEqual(['reply', 'thread'])
    expect(await delivery('reply-c1')).toMatchObject({ status: 'sent', reason: 'digest' })
    expect(await storage.contacts.lastEmailedAt('ben')).toBe(T0)

    // Inside the window: held to its end, then sent.
    now = T0 + 10_000
    await notify(activity('reply', 'c3', now))
    expect(await drain()).toEqual([{ error: 'digest window', retryAt: T0 + 60_000 }])
    now = T0 + 60_000
    expect(await drain()).toEqual([null])
    expect(sent).toHaveLength(2)
  })

  it('sends an email held for the digest at its window end, even when a mention was emailed meanwhile', async () => {
    stored = { kinds: { reply: { email: true } } }
    await notify(activity('reply', 'c1', now))
    expect(await drain()).toEqual([null])
    now = T0 + 10_000
    await notify(activity('reply', 'c2', now))
    expect(await drain()).toEqual([{ error: 'digest window', retryAt: T0 + 60_000 }])
    // A mention goes at once and moves the last email's time to T0 + 30 s.
    now = T0 + 30_000
    await notify(activity('mention', 'c3', now, 'high'))
    expect(await drain()).toEqual([null])
    expect(await storage.contacts.lastEmailedAt('ben')).toBe(T0 + 30_000)
    // The held reply's window ended at T0 + 60 s: it goes then, not at T0 + 90 s.
    now = T0 + 60_000
    expect(await drain()).toEqual([null])
    expect(await delivery('reply-c2')).toMatchObject({ status: 'sent' })
    expect(sent).toHaveLength(3)
  })

  it('is dead after EMAIL_MAX_ATTEMPTS transient failures, and at once after a refusal for good', async () => {
    answers = Array.from({ length: EMAIL_MAX_ATTEMPTS }, () => ({ status: 'retry', reason: 'connection refused' }))
    await notify(activity('mention', 'c1', now, 'high'))
    for (let i = 1; i <= EMAIL_MAX_ATTEMPTS; i++) {
      await channel.deliver(await storage.notifications.outboxOf('ben', 'mention-c1'))
      expect(await delivery('mention-c1')).toMatchObject({ attempts: i, status: i < EMAIL_MAX_ATTEMPTS ? 'failed' : 'dead' })
    }
    expect((await delivery('mention-c1'))?.reason).toBe(`gave up after ${EMAIL_MAX_ATTEMPTS} attempts: connection refused`)

    answers = [{ status: 'failed', reason: '550 no such user' }]
    await notify(activity('mention', 'c2', now, 'high'))
    await drain()
    expect(await delivery('mention-c2')).toMatchObject({ status: 'dead', attempts: 1, reason: '550 no such user' })
  })
})
