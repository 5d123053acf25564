/**
 * What a push channel (APNs, FCM, Web Push) is asked to do, and what it answers: one message to
 * one device, and an outcome the delivery policy understands. The senders live in
 * server/delivery/; this is their contract.
 */
import type { DevicePlatform, DeviceRecord } from './devices.ts'

/** One push, the same for every platform (each maps it to its own payload and headers). */
export interface PushMessage {
  notificationId: string
  kind: string
  title: string
  body: string
  subjectId: string
  threadId: string | null
  /** Devices show one notification per collapse id: folded activity, and a repeated send, replace the earlier one. */
  collapseId: string
  /** The user's unseen count. */
  badge: number
  /** `high`: mention, urgent and high priority; `normal` otherwise. */
  urgency: 'high' | 'normal'
  /** A link into the app (`PARLEY_APP_URL`). */
  url?: string | undefined
}

/** What one send did. */
export type SendOutcome =
  /** Accepted by the push service. */
  | { status: 'sent' }
  /** The token or subscription is dead: remove the device. */
  | { status: 'gone'; reason: string }
  /** Try again later (throttled, the service is down, the network failed), after `retryAfterMs` when the service said. */
  | { status: 'retry'; reason: string; retryAfterMs?: number | undefined }
  /** Refused for good (a payload the service rejects): give up on this device for this notification. */
  | { status: 'failed'; reason: string }

export interface PushSender {
  readonly platform: DevicePlatform
  send(device: DeviceRecord, message: PushMessage): Promise<SendOutcome>
  /** Closes connections and timers. */
  close(): Promise<void>
}
