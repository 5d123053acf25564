/**
 * The notification core, composed: typed events, the detector, the mentions and inbox
 * extensions, the outbox and the in-app inbox projector. server/server.ts creates it before
 * Hocuspocus (the extensions go into Hocuspocus) and starts it once the server listens.
 */
import type { Extension, Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { Inbox } from '../../extensions/inbox/index.ts'
import { INBOX_RESET_BYTES, InboxReset, type InboxResetCoordinator } from '../../extensions/inbox/reset.ts'
import { Mentions } from '../../extensions/mentions/index.ts'
import { inboxDocumentName } from '../../protocol/index.ts'
import type { AccessResolver } from '../../core/access/resolve.ts'
import { createEvents, type ParleyEvents } from '../../core/events.ts'
import { createNotificationMetrics } from '../observability/notification-metrics.ts'
import type { Storage } from '../../core/storage/types.ts'
import { createDetector } from '../../core/notifications/detector.ts'
import { createExpiry, type NotificationExpiry } from '../../core/notifications/expiry.ts'
import { effectivePreferences } from '../../core/notifications/preferences.ts'
import { createFaults, type FaultPoint } from '../../core/notifications/faults.ts'
import { createMentionLimits } from '../../core/notifications/mention-limits.ts'
import { createOutbox, type Outbox } from '../../core/notifications/outbox.ts'
import { createInboxProjector, INBOX_DOCUMENT_LIMIT, type Deliverer, type InboxProjector } from '../../core/notifications/projector.ts'
import { CHANNELS } from '../../core/notifications/rules.ts'
import { notificationUrl } from '../../core/notifications/app-url.ts'
import { createPushDeliverer, PUSH_CHANNEL } from '../../core/delivery/push.ts'
import type { PushSender } from '../../core/delivery/senders.ts'
import { createPushMetrics } from '../observability/push-metrics.ts'
import { createEmailChannel, EMAIL_CHANNEL } from '../../core/email/channel.ts'
import type { EmailSender } from '../../core/email/sender.ts'
import { createEmailMetrics } from '../email/metrics.ts'

export interface NotificationsOptions {
  storage: Storage
  access: AccessResolver
  logger: Logger
  registry: Registry
  hookError(hook: string): void
  faultPoint: FaultPoint | undefined
  /** The Hocuspocus instance, once created. */
  hocuspocus(): Hocuspocus
  /** Inbox settings (tests): notifications per document, idle time, stored bytes that trigger a reset. */
  inbox?: { limit?: number; idleMs?: number; resetBytes?: number } | undefined
  /** Mention bounds: distinct mentions per comment, mention notifications per author per minute (defaults: mention-limits.ts). */
  mentions?: { perComment?: number; perAuthorPerMinute?: number } | undefined
  /** Age in days past which notifications expire (`PARLEY_NOTIFICATION_MAX_AGE_DAYS`). */
  maxAgeDays?: number | undefined
  /** The link template of each notification (`PARLEY_APP_URL`). */
  appUrl?: string | undefined
  /** The digest window of users who did not choose one (`PARLEY_DIGEST_SECONDS`). */
  digestSeconds?: number | undefined
  /** Several instances share documents (Redis): an inbox not loaded here may be open on another, so every delivery projects. */
  clustered: boolean
  /** With several instances: inbox resets one instance at a time, never while another holds the inbox. */
  inboxResetCoordinator?: InboxResetCoordinator | undefined
  /** Push: the configured senders, and who is active where (present users are not pushed). */
  push?: { senders: PushSender[]; isPresent(userId: string, documentName: string): Promise<boolean> } | undefined
  /** Email (issue 17): the SMTP sender, the unsubscribe key and link, who is active where. */
  email?:
    | {
        sender: EmailSender
        unsubscribeKey: Uint8Array
        unsubscribeUrl(token: string): string
        isPresent(userId: string, documentName: string): Promise<boolean>
      }
    | undefined
}

export interface Notifications {
  readonly events: ParleyEvents
  readonly extensions: Extension[]
  readonly outbox: Outbox
  readonly projector: InboxProjector
  readonly expiry: NotificationExpiry
  /** Starts draining the outbox and rescans documents a crash left undetected. */
  start(): void
  /** Stops the outbox and closes the projector's connections. */
  close(): Promise<void>
}

export function createNotifications(options: NotificationsOptions): Notifications {
  const { storage, access, logger } = options
  const metrics = createNotificationMetrics(options.registry, options.hookError)
  const events = createEvents(logger, () => options.hookError('events'))
  const { resetBytes = INBOX_RESET_BYTES, ...projectorOptions } = options.inbox ?? {}
  const projector = createInboxProjector({
    storage,
    logger,
    appUrl: options.appUrl,
    idle: options.clustered
      ? undefined
      : (userId) => {
          const name = inboxDocumentName(userId)
          const hocuspocus = options.hocuspocus()
          // Loaded for our own direct connections only (the projector's, a REST read) counts as idle.
          return (hocuspocus.documents.get(name)?.connections.size ?? 0) === 0 && !hocuspocus.loadingDocuments.has(name)
        },
    loaded: (userId) => options.hocuspocus().documents.has(inboxDocumentName(userId)),
    ...projectorOptions,
    open: (name, context) => options.hocuspocus().openDirectConnection(name, context),
  })
  const faults = createFaults(options.faultPoint)
  const preferences = async (userId: string) => effectivePreferences(await storage.preferences.get(userId), options.digestSeconds)
  const preferencesOf = async (userIds: readonly string[]) => {
    const stored = await storage.preferences.getMany(userIds)
    return new Map(userIds.map((id) => [id, effectivePreferences(stored.get(id) ?? null, options.digestSeconds)]))
  }
  const push =
    options.push && options.push.senders.length > 0
      ? createPushDeliverer({
          storage,
          senders: options.push.senders,
          preferences,
          isPresent: options.push.isPresent,
          nameOf: async (userId) => (await storage.users.get(userId))?.name ?? userId,
          urlOf: options.appUrl === undefined ? undefined : (record) => notificationUrl(options.appUrl ?? '', record),
          logger,
          metrics: createPushMetrics(options.registry),
          faults,
          events,
        })
      : undefined
  const email = options.email
    ? createEmailChannel({
        storage,
        sender: options.email.sender,
        preferences,
        isPresent: options.email.isPresent,
        nameOf: async (userId) => (await storage.users.get(userId))?.name ?? userId,
        urlOf: options.appUrl === undefined ? undefined : (record) => notificationUrl(options.appUrl ?? '', record),
        unsubscribeKey: options.email.unsubscribeKey,
        unsubscribeUrl: options.email.unsubscribeUrl,
        logger,
        metrics: createEmailMetrics(options.registry),
        events,
        faults,
      })
    : undefined
  const deliverers: Record<string, Deliverer> = { inbox: projector, ...(push && { [PUSH_CHANNEL]: push }), ...(email && { [EMAIL_CHANNEL]: email }) }
  const channels = [...CHANNELS, ...(push ? [PUSH_CHANNEL] : []), ...(email ? [EMAIL_CHANNEL] : [])]
  const outbox = createOutbox({ storage, channels: deliverers, logger, metrics: metrics.outbox })
  const mentions = new Mentions({
    storage,
    detector: createDetector({
      storage,
      access,
      events,
      limits: createMentionLimits({ ...options.mentions, logger, dropped: metrics.mentionsDropped }),
      preferences,
      preferencesOf,
      channels,
    }),
    events,
    logger,
    faults,
    metrics: metrics.mentions,
    onRecorded: (result) => {
      metrics.recorded(result)
      outbox.kick()
      // A take-back that emptied a notification removed it from storage: project the inbox without it.
      for (const userId of new Set(result.removed.map((r) => r.userId))) {
        projector.sync(userId).catch((error: unknown) => {
          options.hookError('takeBack')
          logger.warn({ err: error, userId }, 'an inbox could not drop a taken-back notification; its next projection does')
        })
      }
    },
  })
  const expiry = createExpiry({
    storage,
    sync: (userId) => projector.sync(userId),
    logger,
    maxAgeDays: options.maxAgeDays,
    failed: () => options.hookError('expiry'),
  })
  const inbox = new Inbox({ storage, projector, logger, hookError: options.hookError })
  const reset = new InboxReset({
    storage,
    logger,
    limit: projectorOptions.limit ?? INBOX_DOCUMENT_LIMIT,
    resetBytes,
    hookError: options.hookError,
    coordinator: options.inboxResetCoordinator,
  })
  let sweeping: Promise<unknown> = Promise.resolve()
  return {
    events,
    extensions: [mentions, reset, inbox],
    outbox,
    projector,
    expiry,
    start() {
      outbox.start()
      expiry.start()
      sweeping = mentions.sweep(options.hocuspocus()).catch((error: unknown) => {
        options.hookError('sweep')
        logger.error({ err: error }, 'the startup rescan could not list documents')
      })
    },
    async close() {
      await sweeping
      await expiry.stop()
      await outbox.stop()
      await projector.close()
      await push?.close()
      await email?.close()
    },
  }
}
