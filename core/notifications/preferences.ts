/**
 * Notification preferences (contract additions, "Preferences"): per kind and channel on or off,
 * the digest window, muted subjects and quiet hours. A user's stored preferences hold only what
 * they set; {@link effectivePreferences} fills the rest from the defaults. Every channel asks
 * {@link mayDeliver} whether a notification may go to a user on it now, and if not, why.
 */
import { err, OK, type Result } from '../../protocol/index.ts'

/** Every notification kind (contract additions, "Notification kinds and who hears them"). */
export const NOTIFICATION_KINDS = ['mention', 'reply', 'thread', 'comment', 'reaction', 'moderation'] as const
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

/** The channels a notification may go to. */
export const DELIVERY_CHANNELS = ['inApp', 'push', 'email'] as const
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number]

export type ChannelSwitches = Record<DeliveryChannel, boolean>

/** The default channels of each kind (contract additions). */
export const DEFAULT_CHANNELS: Readonly<Record<NotificationKind, Readonly<ChannelSwitches>>> = {
  mention: { inApp: true, push: true, email: true },
  reply: { inApp: true, push: true, email: false },
  thread: { inApp: true, push: false, email: false },
  comment: { inApp: true, push: false, email: false },
  reaction: { inApp: true, push: false, email: false },
  moderation: { inApp: true, push: true, email: true },
}

/** Default digest window for push and email, in seconds (`PARLEY_DIGEST_SECONDS`). */
export const DEFAULT_DIGEST_SECONDS = 300

/** Most subjects one user may mute. */
export const MAX_MUTED_SUBJECTS = 1_000

/** Longest digest window, in seconds (one day). */
export const MAX_DIGEST_SECONDS = 86_400

export interface QuietHours {
  /** Local time `HH:MM` (24 h) the quiet hours start. */
  start: string
  /** Local time `HH:MM` they end; before `start`, they run past midnight. */
  end: string
  /** IANA time zone of `start` and `end`. */
  timeZone: string
}

/** What a user set: any field may be missing, and any kind or channel within `kinds`. */
export interface StoredPreferences {
  kinds?: Partial<Record<NotificationKind, Partial<ChannelSwitches>>>
  digestSeconds?: number
  mutedSubjects?: string[]
  quietHours?: QuietHours | null
}

/** Every field with its effective value. */
export interface Preferences {
  kinds: Record<NotificationKind, ChannelSwitches>
  digestSeconds: number
  mutedSubjects: string[]
  quietHours: QuietHours | null
}

/** The stored preferences over the defaults. */
export function effectivePreferences(stored: StoredPreferences | null, digestSeconds = DEFAULT_DIGEST_SECONDS): Preferences {
  const kinds = {} as Record<NotificationKind, ChannelSwitches>
  for (const kind of NOTIFICATION_KINDS) kinds[kind] = { ...DEFAULT_CHANNELS[kind], ...stored?.kinds?.[kind] }
  return {
    kinds,
    digestSeconds: stored?.digestSeconds ?? digestSeconds,
    mutedSubjects: [...(stored?.mutedSubjects ?? [])],
    quietHours: stored?.quietHours ?? null,
  }
}

/** A PUT: fields left out keep their value; within `kinds`, channels left out keep theirs. */
export function mergePreferences(stored: StoredPreferences | null, patch: StoredPreferences): StoredPreferences {
  const kinds: Partial<Record<NotificationKind, Partial<ChannelSwitches>>> = { ...stored?.kinds }
  for (const kind of NOTIFICATION_KINDS) {
    const change = patch.kinds?.[kind]
    if (change) kinds[kind] = { ...kinds[kind], ...change }
  }
  const merged: StoredPreferences = { ...stored, kinds }
  if (patch.digestSeconds !== undefined) merged.digestSeconds = patch.digestSeconds
  if (patch.mutedSubjects !== undefined) merged.mutedSubjects = [...new Set(patch.mutedSubjects)]
  if (patch.quietHours !== undefined) merged.quietHours = patch.quietHours
  return merged
}

/** Minutes since local midnight of `at` in `timeZone`. */
function localMinutes(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at)
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0)
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0)
  return hour * 60 + minute
}

/** `HH:MM` as minutes since midnight. */
export function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number)
  return (hours ?? 0) * 60 + (minutes ?? 0)
}

/** Whether `timeZone` is an IANA time zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone })
    return true
  } catch {
    return false
  }
}

/** When the quiet hours around `at` end (ms since the epoch), or null outside them. */
export function quietUntil(quiet: QuietHours | null, at: number): number | null {
  if (!quiet) return null
  const start = minutesOf(quiet.start)
  const end = minutesOf(quiet.end)
  if (start === end) return null
  const now = localMinutes(at, quiet.timeZone)
  const inside = start < end ? now >= start && now < end : now >= start || now < end
  if (!inside) return null
  const minutesLeft = (end - now + 1440) % 1440
  // To the minute: the end falls on the start of its minute, local seconds aside.
  return at - (at % 60_000) + minutesLeft * 60_000
}

/** What a channel asks about one notification. */
export interface DeliveryQuestion {
  kind: string
  subjectId: string
  /** `urgent` bypasses quiet hours. */
  priority: string
}

/** Why a notification does not go out on a channel now. */
export type DeliveryRefusal =
  | { reason: 'channel_off' }
  | { reason: 'subject_muted' }
  /** Held, not dropped: it may go at `until`. */
  | { reason: 'quiet_hours'; until: number }

/**
 * May this notification go to this user on this channel now? A channel off for the kind gets
 * nothing; a muted subject gives nothing but mentions; quiet hours hold push and email (never
 * in-app) until they end, unless the notification is `urgent`. Unknown kinds use the channels
 * of `comment`.
 */
export function mayDeliver(preferences: Preferences, question: DeliveryQuestion, channel: DeliveryChannel, now: number): Result<void, DeliveryRefusal> {
  const kind = (NOTIFICATION_KINDS as readonly string[]).includes(question.kind) ? (question.kind as NotificationKind) : 'comment'
  if (!preferences.kinds[kind][channel]) return err({ reason: 'channel_off' })
  if (kind !== 'mention' && preferences.mutedSubjects.includes(question.subjectId)) return err({ reason: 'subject_muted' })
  if (channel !== 'inApp' && question.priority !== 'urgent') {
    const until = quietUntil(preferences.quietHours, now)
    if (until !== null) return err({ reason: 'quiet_hours', until })
  }
  return OK
}
