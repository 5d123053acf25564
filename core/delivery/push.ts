/**
 * The push channel of the outbox: for each notification row, the user's devices on configured
 * platforms get one push per round of activity (a mark that only changes the version sends
 * nothing). The policy (policy.ts) may skip it (read, present, off, muted) or hold it (quiet
 * hours); the digest (digest.ts) holds pushes inside the user's window and sends what waited as
 * one summary at its end. Every (notification, device) has a delivery record. A device the
 * service declares dead is removed; a failure retries with jittered backoff, only for the devices
 * not yet done, and after PUSH_MAX_ATTEMPTS the delivery is `dead` (one log line each). A crash
 * mid-send repeats at most that send, which devices fold by its collapse id.
 */
import type { Logger } from 'pino'
import { commentsDocumentName } from '../../protocol/index.ts'
import type { ParleyEvents } from '../events.ts'
import type { Faults } from '../notifications/faults.ts'
import { announceDelivered } from '../webhooks/announce.ts'
import type { RowOutcome } from '../notifications/projector.ts'
import type { Preferences } from '../notifications/preferences.ts'
import type { NotificationRecord, OutboxRow, Storage } from '../storage/types.ts'
import { deliveryId, isSettled, type DeliveryRecord, type DeliveryStatus } from './deliveries.ts'
import type { DevicePlatform, DeviceRecord } from './devices.ts'
import { bypassesDigest, DIGEST_HELD, digestHold, summaryMessage } from './digest.ts'
import { pushMessage } from './message.ts'
import { decide, PUSH_MAX_ATTEMPTS, retryDelay } from './policy.ts'
import type { PushMessage, PushSender, SendOutcome } from './senders.ts'

export const PUSH_CHANNEL = 'push'

export interface PushMetrics {
  /** One send's outcome (sent, gone, retry, failed) or a skip (skipped_<reason>), by platform. */
  outcome(platform: DevicePlatform, outcome: string, seconds?: number): void
  dead(platform: DevicePlatform): void
}

export interface PushOptions {
  storage: Storage
  senders: ReadonlyArray<PushSender>
  preferences(userId: string): Promise<Preferences>
  /** Whether the user is active on the subject's comments document. */
  isPresent(userId: string, documentName: string): Promise<boolean>
  /** A display name for an actor. */
  nameOf(userId: string): Promise<string>
  /** The notification's link (`PARLEY_APP_URL`). */
  urlOf?: ((record: NotificationRecord) => string | undefined) | undefined
  logger: Logger
  metrics?: PushMetrics | undefined
  now?: () => number
  random?: () => number
  /** Test-only crash points (core/notifications/faults.ts). */
  faults?: Faults | undefined
  /** Where `notification.delivered` is announced, once a push is recorded as sent. */
  events?: ParleyEvents | undefined
}

/** A notification that may be pushed now, to the devices not done with its round. */
interface Ready {
  index: number
  row: OutboxRow
  note: NotificationRecord
  open: DeviceRecord[]
  previous: Map<string | null, DeliveryRecord>
  devices: DeviceRecord[]
  preferences: Preferences
}

/** Rows (or users) handled between two turns of the event loop: a large round never holds up sockets and the inbox for long. */
export const PUSH_ROWS_PER_TURN = 25

/** Runs `work` on every item, {@link PUSH_ROWS_PER_TURN} at a time, letting I/O run between turns. */
async function inTurns<T>(items: readonly T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += PUSH_ROWS_PER_TURN) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve))
    await Promise.all(items.slice(start, start + PUSH_ROWS_PER_TURN).map((item, offset) => work(item, start + offset)))
  }
}

export function createPushDeliverer(options: PushOptions) {
  const { storage, logger } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const senders = new Map(options.senders.map((s) => [s.platform, s]))

  const record = (r: Omit<DeliveryRecord, 'id' | 'channel' | 'updatedAt'>): Promise<void> =>
    storage.deliveries.put({ ...r, id: deliveryId(r.userId, r.notificationId, PUSH_CHANNEL, r.deviceId), channel: PUSH_CHANNEL, updatedAt: now() })

  /** Sends one message to one device for `notes`, records each one's delivery; the retry time when it should be tried again. */
  const sendTo = async (userId: string, notes: readonly Ready[], device: DeviceRecord, message: PushMessage, digest: boolean): Promise<number | null> => {
    const sender = senders.get(device.platform)
    if (!sender) return null
    const attemptsOf = (r: Ready) => {
      const previous = r.previous.get(device.id)
      return previous && previous.round === r.note.notifiedAt ? previous.attempts + 1 : 1
    }
    const attempts = Math.max(...notes.map(attemptsOf))
    const started = performance.now()
    const outcome = await sender
      .send(device, message)
      .catch((error: unknown): SendOutcome => ({ status: 'retry', reason: error instanceof Error ? error.message : String(error) }))
    options.metrics?.outcome(sender.platform, outcome.status, (performance.now() - started) / 1000)
    let status: DeliveryStatus
    let reason: string | null = digest ? 'digest' : null
    let retryAt: number | null = null
    if (outcome.status === 'sent') {
      await options.faults?.at('push-after-send')
      status = 'sent'
      await storage.devices.markSent(device.id, now())
    } else if (outcome.status === 'gone') {
      ;[status, reason] = ['dead', `device removed: ${outcome.reason}`]
      await storage.devices.forget(device.id)
    } else if (outcome.status === 'failed' || attempts >= PUSH_MAX_ATTEMPTS) {
      ;[status, reason] = ['dead', outcome.status === 'failed' ? outcome.reason : `gave up after ${attempts} attempts: ${outcome.reason}`]
    } else {
      ;[status, reason] = ['failed', outcome.reason]
      retryAt = now() + retryDelay(attempts - 1, random, outcome.retryAfterMs)
    }
    if (status === 'dead') {
      options.metrics?.dead(sender.platform)
      logger.warn({ userId, notificationIds: notes.map((r) => r.note.id), deviceId: device.id, platform: sender.platform, reason }, 'a push delivery is dead')
    }
    for (const r of notes) {
      const delivery = { userId, notificationId: r.note.id, deviceId: device.id, attempts: attemptsOf(r), round: r.note.notifiedAt }
      await record({ ...delivery, status, reason })
      if (status === 'sent' && options.events) announceDelivered(options.events, { ...delivery, subjectId: r.note.subjectId, channel: PUSH_CHANNEL })
    }
    return retryAt
  }

  /** The row's final outcome (nothing to send, skipped, held), or what is ready to send. */
  const prepare = async (row: OutboxRow, index: number): Promise<RowOutcome | Ready> => {
    const note = await storage.notifications.get(row.userId, row.notificationId)
    if (!note) return null
    const devices = (await storage.devices.list(row.userId)).filter((d) => senders.has(d.platform))
    if (devices.length === 0) return null
    const previous = new Map<string | null, DeliveryRecord>(
      (await storage.deliveries.ofNotification(row.userId, note.id)).filter((d) => d.channel === PUSH_CHANNEL).map((d) => [d.deviceId, d]),
    )
    const open = devices.filter((d) => {
      const done = previous.get(d.id)
      return !done || !isSettled(done, note.notifiedAt)
    })
    if (open.length === 0) return null
    const preferences = await options.preferences(row.userId)
    const present = await options.isPresent(row.userId, commentsDocumentName(note.subjectId))
    const decision = decide(note, preferences, present, 'push', now())
    if (decision.send) return { index, row, note, open, previous, devices, preferences }
    if ('holdUntil' in decision) return { error: 'quiet hours', retryAt: decision.holdUntil }
    for (const device of open) {
      options.metrics?.outcome(device.platform, `skipped_${decision.skip}`)
      await record({
        userId: row.userId,
        notificationId: note.id,
        deviceId: device.id,
        status: 'skipped',
        reason: decision.skip,
        attempts: 0,
        round: note.notifiedAt,
      })
    }
    return null
  }

  /** Sends `group` (one user's ready notifications) as one message each, or as one summary; the earliest retry. */
  const send = async (userId: string, group: readonly Ready[], asSummary: boolean): Promise<number | null> => {
    const first = group[0]
    if (!first) return null
    const badge = await storage.notifications.unseenCount(userId)
    const retries: Array<number | null> = []
    if (asSummary) {
      const message = summaryMessage(
        group.map((r) => r.note),
        badge,
        options.urlOf?.(first.note),
      )
      const devices = [...new Map(group.flatMap((r) => r.open).map((d) => [d.id, d])).values()]
      for (const device of devices) retries.push(await sendTo(userId, group, device, message, true))
    } else {
      for (const r of group) {
        const names = await Promise.all(r.note.actors.slice(0, 2).map((id) => options.nameOf(id)))
        const message = pushMessage(r.note, names, badge, options.urlOf?.(r.note))
        retries.push(...(await Promise.all(r.open.map((device) => sendTo(userId, [r], device, message, false)))))
      }
    }
    const due = retries.filter((at): at is number => at !== null)
    return due.length === 0 ? null : Math.min(...due)
  }

  /** One user's ready notifications: bypassing ones at once; the others now, held to the window's end, or as one summary. */
  const deliverUser = async (userId: string, ready: readonly Ready[], outcomes: RowOutcome[]) => {
    const first = ready[0]
    if (!first) return
    const lastSentAt = Math.max(0, ...first.devices.map((d) => d.lastSentAt ?? 0)) || null
    const urgent = ready.filter((r) => bypassesDigest(r.note))
    const rest = ready.filter((r) => !bypassesDigest(r.note))
    // Decided before the urgent ones are sent: their push does not move the window of those held.
    const hold = digestHold(
      rest.map((r) => r.row),
      lastSentAt,
      first.preferences.digestSeconds * 1000,
      now(),
    )
    const settle = (group: readonly Ready[], retryAt: number | null) => {
      for (const r of group) outcomes[r.index] = retryAt === null ? null : { error: 'some devices will be retried', retryAt }
    }
    for (const r of urgent) settle([r], await send(userId, [r], false))
    if (rest.length === 0) return
    if (hold !== null) {
      for (const r of rest) outcomes[r.index] = { error: DIGEST_HELD, retryAt: hold }
      return
    }
    settle(rest, await send(userId, rest, rest.length > 1))
  }

  return {
    async deliver(rows: readonly OutboxRow[]): Promise<RowOutcome[]> {
      const outcomes: RowOutcome[] = rows.map(() => null)
      const failed = (row: OutboxRow, error: unknown) => {
        logger.warn({ userId: row.userId, notificationId: row.notificationId, err: error }, 'a push delivery failed; retried with backoff')
        return error instanceof Error ? error.message : String(error)
      }
      const byUser = new Map<string, Ready[]>()
      await inTurns(rows, async (row, index) => {
        try {
          const prepared = await prepare(row, index)
          if (prepared !== null && typeof prepared === 'object' && 'note' in prepared) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), prepared])
          else outcomes[index] = prepared
        } catch (error) {
          outcomes[index] = failed(row, error)
        }
      })
      await inTurns([...byUser.entries()], async ([userId, ready]) => {
        try {
          await deliverUser(
            userId,
            ready.sort((a, b) => a.index - b.index),
            outcomes,
          )
        } catch (error) {
          for (const r of ready) outcomes[r.index] ??= failed(r.row, error)
        }
      })
      return outcomes
    },
    async close() {
      await Promise.all(options.senders.map((s) => s.close()))
    },
  }
}

export type PushDeliverer = ReturnType<typeof createPushDeliverer>
