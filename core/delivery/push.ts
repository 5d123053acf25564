/**
 * The push channel of the outbox: for each notification row, the user's devices on configured
 * platforms get one push per round of activity (a mark that only changes the version sends
 * nothing). The policy (policy.ts) may skip it (read, present, off, muted) or hold it (quiet
 * hours); every (notification, device) has a delivery record. A device the service declares dead
 * is removed; a failure retries with jittered backoff, only for the devices not yet done, and
 * after PUSH_MAX_ATTEMPTS the delivery is `dead` (one log line each). A crash mid-send repeats at
 * most that send, and devices fold repeats by the collapse id (the notification id).
 */
import type { Logger } from 'pino'
import { commentsDocumentName } from '../../protocol/index.ts'
import type { RowOutcome } from '../notifications/projector.ts'
import type { Preferences } from '../notifications/preferences.ts'
import type { NotificationRecord, OutboxRow, Storage } from '../storage/types.ts'
import { deliveryId, isSettled, type DeliveryRecord, type DeliveryStatus } from './deliveries.ts'
import type { DevicePlatform, DeviceRecord } from './devices.ts'
import { pushMessage } from './message.ts'
import { decide, PUSH_MAX_ATTEMPTS, retryDelay } from './policy.ts'
import type { PushSender, SendOutcome } from './senders.ts'

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
}

export function createPushDeliverer(options: PushOptions) {
  const { storage, logger } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const senders = new Map(options.senders.map((s) => [s.platform, s]))

  const record = (r: Omit<DeliveryRecord, 'id' | 'channel' | 'updatedAt'>): Promise<void> =>
    storage.deliveries.put({ ...r, id: deliveryId(r.userId, r.notificationId, PUSH_CHANNEL, r.deviceId), channel: PUSH_CHANNEL, updatedAt: now() })

  /** Sends to one device, records the result; the retry time when it should be tried again. */
  const sendTo = async (
    row: OutboxRow,
    note: NotificationRecord,
    device: DeviceRecord,
    sender: PushSender,
    previous: DeliveryRecord | undefined,
    send: () => Promise<SendOutcome>,
  ) => {
    const attempts = previous && previous.round === note.notifiedAt ? previous.attempts + 1 : 1
    const started = performance.now()
    const outcome = await send().catch((error: unknown): SendOutcome => ({ status: 'retry', reason: error instanceof Error ? error.message : String(error) }))
    options.metrics?.outcome(sender.platform, outcome.status, (performance.now() - started) / 1000)
    const base = { userId: row.userId, notificationId: note.id, deviceId: device.id, attempts, round: note.notifiedAt }
    let status: DeliveryStatus
    let reason: string | null = null
    let retryAt: number | null = null
    if (outcome.status === 'sent') {
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
      logger.warn({ userId: row.userId, notificationId: note.id, deviceId: device.id, platform: sender.platform, reason }, 'a push delivery is dead')
    }
    await record({ ...base, status, reason })
    return retryAt
  }

  const deliverOne = async (row: OutboxRow): Promise<RowOutcome> => {
    const note = await storage.notifications.get(row.userId, row.notificationId)
    if (!note) return null
    const devices = (await storage.devices.list(row.userId)).filter((d) => senders.has(d.platform))
    if (devices.length === 0) return null
    const previous = new Map(
      (await storage.deliveries.ofNotification(row.userId, note.id)).filter((d) => d.channel === PUSH_CHANNEL).map((d) => [d.deviceId, d]),
    )
    const open = devices.filter((d) => {
      const done = previous.get(d.id)
      return !done || !isSettled(done, note.notifiedAt)
    })
    if (open.length === 0) return null
    const present = await options.isPresent(row.userId, commentsDocumentName(note.subjectId))
    const decision = decide(note, await options.preferences(row.userId), present, 'push', now())
    if (!decision.send) {
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
    const names = await Promise.all(note.actors.slice(0, 2).map((id) => options.nameOf(id)))
    const message = pushMessage(note, names, await storage.notifications.unseenCount(row.userId), options.urlOf?.(note))
    const retries = await Promise.all(
      open.map((device) => {
        const sender = senders.get(device.platform)
        return sender ? sendTo(row, note, device, sender, previous.get(device.id), () => sender.send(device, message)) : Promise.resolve(null)
      }),
    )
    const due = retries.filter((at): at is number => at !== null)
    return due.length === 0 ? null : { error: 'some devices will be retried', retryAt: Math.min(...due) }
  }

  return {
    async deliver(rows: readonly OutboxRow[]): Promise<RowOutcome[]> {
      return Promise.all(
        rows.map((row) =>
          deliverOne(row).catch((error: unknown) => {
            logger.warn({ userId: row.userId, notificationId: row.notificationId, err: error }, 'a push delivery failed; retried with backoff')
            return error instanceof Error ? error.message : String(error)
          }),
        ),
      )
    },
    async close() {
      await Promise.all(options.senders.map((s) => s.close()))
    },
  }
}

export type PushDeliverer = ReturnType<typeof createPushDeliverer>
