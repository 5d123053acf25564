/**
 * The email channel of the outbox (contract additions, "Email"), shaped like the push channel
 * (core/delivery/push.ts): for each notification row, the user's directory address gets one
 * email per round of activity. The same policy (core/delivery/policy.ts) skips what was read,
 * what the user turned off or muted, and users active on the subject, and holds emails through
 * quiet hours; the same digest (core/delivery/digest.ts) sends mentions and `urgent` at once,
 * the first email of a window at once, and what came later inside the window as one email at its
 * end. Every emailed notification has one delivery record (channel `email`, no device); a kind
 * whose email is off records nothing (most kinds are off by default), a user without an address
 * is `skipped` with reason `no_email`. Transient failures (4xx, connection) retry with the push
 * backoff; a 5xx answer, or {@link EMAIL_MAX_ATTEMPTS} attempts, make the delivery `dead`. The
 * outbox leases rows, so a crash mid-send repeats at most that send.
 */
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { commentsDocumentName } from '../../protocol/index.ts'
import { deliveryId, isSettled, type DeliveryRecord, type DeliveryStatus } from '../delivery/deliveries.ts'
import { bypassesDigest, DIGEST_HELD, digestHold } from '../delivery/digest.ts'
import { decide, retryDelay } from '../delivery/policy.ts'
import type { Faults } from '../notifications/faults.ts'
import type { RowOutcome } from '../notifications/projector.ts'
import type { Preferences } from '../notifications/preferences.ts'
import type { NotificationRecord, OutboxRow, Storage } from '../storage/types.ts'
import type { EmailMessage, EmailMetrics, EmailOutcome, EmailSender } from './sender.ts'
import { emailContent, type EmailItem } from './template.ts'
import { kindsTarget, unsubscribeToken } from './unsubscribe.ts'
import type { ParleyEvents } from '../events.ts'
import { announceDelivered } from '../webhooks/announce.ts'

export const EMAIL_CHANNEL = 'email'

/** Attempts per (notification, round) before the email delivery is `dead`. */
export const EMAIL_MAX_ATTEMPTS = 8

/** The skip reason of a user the directory has no address for. */
export const NO_EMAIL = 'no_email'

/** The RFC 8058 one-click header value. */
export const ONE_CLICK = 'List-Unsubscribe=One-Click'

export interface EmailChannelOptions {
  storage: Storage
  sender: EmailSender
  preferences(userId: string): Promise<Preferences>
  /** Whether the user is active on the subject's comments document. */
  isPresent(userId: string, documentName: string): Promise<boolean>
  /** A display name for an actor. */
  nameOf(userId: string): Promise<string>
  /** The notification's link (`PARLEY_APP_URL`). */
  urlOf?: ((record: NotificationRecord) => string | undefined) | undefined
  /** The key unsubscribe tokens are signed with (the route verifies with the same). */
  unsubscribeKey: string | Uint8Array
  /** The one-click URL of a token: `POST /api/v1/unsubscribe?token=…` on this server. */
  unsubscribeUrl(token: string): string
  logger: Logger
  metrics?: EmailMetrics | undefined
  now?: () => number
  random?: () => number
  /** Where `notification.delivered` is announced (one per notification an email carried). */
  events?: ParleyEvents | undefined
  /** Test-only crash points (core/notifications/faults.ts). */
  faults?: Faults | undefined
}

/** A notification that may be emailed now. */
interface Ready {
  index: number
  row: OutboxRow
  note: NotificationRecord
  previous: DeliveryRecord | undefined
  preferences: Preferences
  to: string
}

export function createEmailChannel(options: EmailChannelOptions) {
  const { storage, logger, sender } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random

  const record = (r: Omit<DeliveryRecord, 'id' | 'channel' | 'deviceId' | 'updatedAt'>): Promise<void> =>
    storage.deliveries.put({ ...r, id: deliveryId(r.userId, r.notificationId, EMAIL_CHANNEL, null), channel: EMAIL_CHANNEL, deviceId: null, updatedAt: now() })

  const skip = async (note: NotificationRecord, reason: string): Promise<null> => {
    options.metrics?.outcome(`skipped_${reason}`)
    await record({ userId: note.userId, notificationId: note.id, status: 'skipped', reason, attempts: 0, round: note.notifiedAt })
    return null
  }

  /** The row's final outcome (nothing to send, skipped, held), or what is ready to send. */
  const prepare = async (row: OutboxRow, index: number): Promise<RowOutcome | Ready> => {
    const note = await storage.notifications.get(row.userId, row.notificationId)
    if (!note) return null
    const previous = (await storage.deliveries.ofNotification(row.userId, note.id)).find((d) => d.channel === EMAIL_CHANNEL)
    if (previous && isSettled(previous, note.notifiedAt)) return null
    const preferences = await options.preferences(row.userId)
    const present = await options.isPresent(row.userId, commentsDocumentName(note.subjectId))
    const decision = decide(note, preferences, present, 'email', now())
    if ('skip' in decision) {
      // Email off for the kind: nothing to record, unless an earlier attempt is waiting (turned off since).
      if (decision.skip === 'channel_off' && !previous) return null
      return skip(note, decision.skip)
    }
    const to = (await storage.contacts.get(row.userId))?.email ?? null
    if (to === null) return skip(note, NO_EMAIL)
    if ('holdUntil' in decision) return { error: 'quiet hours', retryAt: decision.holdUntil }
    return { index, row, note, previous, preferences, to }
  }

  const message = async (userId: string, group: readonly Ready[], to: string): Promise<EmailMessage> => {
    const items: EmailItem[] = await Promise.all(
      group.map(async (r) => ({
        notification: r.note,
        names: await Promise.all(r.note.actors.slice(0, 2).map((id) => options.nameOf(id))),
        url: options.urlOf?.(r.note),
      })),
    )
    const link = options.unsubscribeUrl(unsubscribeToken(options.unsubscribeKey, { userId, kind: kindsTarget(group.map((r) => r.note.kind)) }))
    const key = createHash('sha256')
      .update(group.map((r) => `${r.note.id}:${r.note.notifiedAt}`).join(','))
      .digest('base64url')
    return {
      to,
      ...emailContent(items, { unsubscribeUrl: link }),
      headers: { 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': ONE_CLICK, 'Auto-Submitted': 'auto-generated' },
      messageKey: `parley.${key.slice(0, 32)}`,
    }
  }

  /** Sends `group` as one email and records each one's delivery; the retry time when it should be tried again. */
  const send = async (userId: string, group: readonly Ready[]): Promise<number | null> => {
    const first = group[0]
    if (!first) return null
    const attemptsOf = (r: Ready) => (r.previous && r.previous.round === r.note.notifiedAt ? r.previous.attempts + 1 : 1)
    const attempts = Math.max(...group.map(attemptsOf))
    const started = performance.now()
    const outcome = await sender
      .send(await message(userId, group, first.to))
      .catch((error: unknown): EmailOutcome => ({ status: 'retry', reason: error instanceof Error ? error.message : String(error) }))
    options.metrics?.outcome(outcome.status, (performance.now() - started) / 1000)
    let status: DeliveryStatus
    let reason: string | null = group.length > 1 ? 'digest' : null
    let retryAt: number | null = null
    if (outcome.status === 'sent') {
      await options.faults?.at('email-after-send')
      status = 'sent'
      await storage.contacts.markEmailed(userId, now())
    } else if (outcome.status === 'failed' || attempts >= EMAIL_MAX_ATTEMPTS) {
      ;[status, reason] = ['dead', outcome.status === 'failed' ? outcome.reason : `gave up after ${attempts} attempts: ${outcome.reason}`]
    } else {
      ;[status, reason] = ['failed', outcome.reason]
      retryAt = now() + retryDelay(attempts - 1, random)
    }
    if (status === 'dead') {
      options.metrics?.dead()
      logger.warn({ userId, notificationIds: group.map((r) => r.note.id), reason }, 'an email delivery is dead')
    }
    for (const r of group) {
      const delivery = { userId, notificationId: r.note.id, attempts: attemptsOf(r), round: r.note.notifiedAt }
      await record({ ...delivery, status, reason })
      if (status === 'sent' && options.events)
        announceDelivered(options.events, { ...delivery, subjectId: r.note.subjectId, channel: EMAIL_CHANNEL, deviceId: null })
    }
    return retryAt
  }

  /** One user's ready notifications: bypassing ones at once, each alone; the others now, held to the window's end, or as one digest. */
  const deliverUser = async (userId: string, ready: readonly Ready[], outcomes: RowOutcome[]) => {
    const first = ready[0]
    if (!first) return
    const rest = ready.filter((r) => !bypassesDigest(r.note))
    // Decided before the mentions are sent; rows held before whose window ended go now even though
    // a mention emailed meanwhile moved the last email's time (as for push).
    const hold = digestHold(
      rest.map((r) => r.row),
      await storage.contacts.lastEmailedAt(userId),
      first.preferences.digestSeconds * 1000,
      now(),
    )
    const settle = (group: readonly Ready[], retryAt: number | null) => {
      for (const r of group) outcomes[r.index] = retryAt === null ? null : { error: 'the email will be retried', retryAt }
    }
    for (const r of ready.filter((n) => bypassesDigest(n.note))) settle([r], await send(userId, [r]))
    if (rest.length === 0) return
    if (hold !== null) {
      for (const r of rest) outcomes[r.index] = { error: DIGEST_HELD, retryAt: hold }
      return
    }
    settle(rest, await send(userId, rest))
  }

  return {
    async deliver(rows: readonly OutboxRow[]): Promise<RowOutcome[]> {
      const outcomes: RowOutcome[] = rows.map(() => null)
      const failed = (row: OutboxRow, error: unknown) => {
        logger.warn({ userId: row.userId, notificationId: row.notificationId, err: error }, 'an email delivery failed; retried with backoff')
        return error instanceof Error ? error.message : String(error)
      }
      const byUser = new Map<string, Ready[]>()
      await Promise.all(
        rows.map(async (row, index) => {
          try {
            const prepared = await prepare(row, index)
            if (prepared !== null && typeof prepared === 'object' && 'note' in prepared) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), prepared])
            else outcomes[index] = prepared
          } catch (error) {
            outcomes[index] = failed(row, error)
          }
        }),
      )
      await Promise.all(
        [...byUser.entries()].map(async ([userId, ready]) => {
          try {
            await deliverUser(
              userId,
              ready.sort((a, b) => a.index - b.index),
              outcomes,
            )
          } catch (error) {
            for (const r of ready) outcomes[r.index] ??= failed(r.row, error)
          }
        }),
      )
      return outcomes
    },
    close: () => sender.close(),
  }
}

export type EmailChannel = ReturnType<typeof createEmailChannel>
