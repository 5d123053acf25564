/**
 * The one storage interface every backend implements (SQLite and PostgreSQL).
 * Everything is asynchronous so that a networked backend fits without redesign.
 *
 * A document is a snapshot plus an append-only log of updates. Compaction merges the snapshot
 * and the log rows *as read from storage* (never the in-memory document, which can lack pending
 * structs) and replaces them with one snapshot, atomically.
 *
 * Subjects (default role, members) and users (profiles, remembered token claims) serve access
 * decisions and the user directory.
 */
import type { Role } from '../../protocol/index.ts'
import type { NotificationStore } from './notification-types.ts'
import type { ModerationStore } from './moderation-types.ts'
import type { StoredPreferences } from '../notifications/preferences.ts'
import type { DeviceRecord } from '../delivery/devices.ts'
import type { DeliveryRecord, DeliveryStatus } from '../delivery/deliveries.ts'
import type { SearchStore } from './search-types.ts'

export type * from './notification-types.ts'
export type * from './search-types.ts'
import type { FeedStore } from './feed-types.ts'

export type * from './feed-types.ts'
export type * from './moderation-types.ts'
import type { WebhookStore } from './webhook-types.ts'

export type * from './webhook-types.ts'
import type { ContactStore } from './contact-types.ts'

export type * from './contact-types.ts'

/** One row of a document's update log. `seq` grows strictly within a document. */
export interface LogRow {
  seq: number
  data: Uint8Array
}

export interface StoredDocument {
  snapshot: Uint8Array | null
  /** Log rows appended after the snapshot, in `seq` order. */
  log: LogRow[]
}

export interface CompactionResult {
  /** Log rows merged into the new snapshot (0: nothing to do). */
  mergedRows: number
  /** Size of the new snapshot in bytes. */
  snapshotBytes: number
}

/** Merges updates into one (Yjs `mergeUpdates`); passed in so storage stays free of Yjs. */
export type MergeUpdates = (updates: Uint8Array[]) => Uint8Array

export interface DocumentStore {
  /** The snapshot and log of a document; an empty one when it was never written. */
  load(name: string): Promise<StoredDocument>
  /** Appends an update durably; resolves with its `seq` only once it would survive `kill -9`. */
  append(name: string, update: Uint8Array): Promise<number>
  /** Merges snapshot and log into a new snapshot, safely against concurrent appends and compactions. */
  compact(name: string, merge: MergeUpdates): Promise<CompactionResult>
  /** Moves a log row that cannot be applied out of the log, keeping it with the reason for inspection. */
  quarantine(name: string, seq: number, reason: string): Promise<void>
  /** Rows set aside by {@link quarantine}, oldest first. */
  listQuarantined(name: string): Promise<Array<LogRow & { reason: string }>>
  /** True when the document has a snapshot or log rows (it was written at least once). */
  exists(name: string): Promise<boolean>
  /**
   * Replaces the whole stored document with `snapshot`, atomically: every log row is deleted and
   * the snapshot covers the last seq, so later appends continue with higher seqs. For rebuilding a
   * document from another source of truth (inbox reset); never for a document a client holds.
   */
  replace(name: string, snapshot: Uint8Array): Promise<void>
  /** Bytes stored for the document: its snapshot plus every log row (0 when never written). */
  storedBytes(name: string): Promise<number>
}

/** A subject the backend registered (`PUT /api/v1/subjects/:id`, or by setting a member). */
export interface SubjectRecord {
  id: string
  /** The role every authenticated user has on the subject; `null`: none. */
  defaultRole: Role | null
  updatedAt: number
}

export interface MemberRecord {
  userId: string
  role: Role
  updatedAt: number
}

/** The stored sources of a user's role on one subject. */
export interface StoredRoles {
  /** `null` also when the subject is not registered. */
  defaultRole: Role | null
  memberRole: Role | null
}

/** Subjects and their membership, set by the integrator's backend. */
export interface SubjectStore {
  get(subjectId: string): Promise<SubjectRecord | null>
  /** Registers the subject, or changes its default role. */
  put(subjectId: string, defaultRole: Role | null): Promise<SubjectRecord>
  /** The subject's default role and the user's membership, in one read. */
  storedRoles(subjectId: string, userId: string): Promise<StoredRoles>
  /** Membership roles of some users on one subject; users without one are absent. */
  memberRoles(subjectId: string, userIds: readonly string[]): Promise<Map<string, Role>>
  /** Sets a member's role, registering the subject (default role `null`) when it is new. */
  putMember(subjectId: string, userId: string, role: Role): Promise<MemberRecord>
  /** Removes a membership; true when there was one. */
  removeMember(subjectId: string, userId: string): Promise<boolean>
  /** Every member, by user id. */
  listMembers(subjectId: string): Promise<MemberRecord[]>
}

/** A user of the directory: the profile, and the latest `access` claim a token of theirs carried. */
export interface UserRecord {
  id: string
  name: string | null
  handle: string | null
  /** True once the backend set the profile; token values then no longer change it. */
  profileFromBackend: boolean
  /** The latest `access` claim seen; `null` when the latest token had none, or none was seen. */
  access: Record<string, Role> | null
  /** When a token of this user was last seen (ms), or `null` when never. */
  tokenSeenAt: number | null
  updatedAt: number
}

/** What a verified token says about its user. */
export interface TokenProfile {
  name: string | undefined
  handle: string | undefined
  access: Record<string, Role> | undefined
}

/** Where a directory search continues: after this key of this user. */
export interface DirectoryCursor {
  key: string
  userId: string
}

/** A keyset page of directory matches. */
export interface DirectoryPage {
  /** Matching users in key order, each once per page (a user matched by several keys may reappear on a later page). */
  users: UserRecord[]
  /** Where the next page starts; `null` when this page was the last. */
  next: DirectoryCursor | null
}

/** What remembering a token did. */
export interface RememberedToken {
  /**
   * The token carried a handle that another user holds (the backend gave it to them, or their
   * token claimed it first): it was not taken, and the user keeps the handle they had.
   */
  handleRefused: boolean
}

/** What setting a backend profile did. */
export interface PutProfileResult {
  user: UserRecord
  /** Users who held the handle until now and lost it (the backend's directory is authoritative). */
  displaced: string[]
}

/**
 * The user directory: profiles for mentions, and what the server remembers of users' tokens.
 * A handle belongs to at most one user (case-insensitive): the backend's profile always gets it
 * (whoever held it loses it); a token's claim takes it only when nobody holds it.
 */
export interface UserStore {
  get(userId: string): Promise<UserRecord | null>
  /** The records of those of these users that have one (one read for a whole batch of recipients). */
  getMany(userIds: readonly string[]): Promise<Map<string, UserRecord>>
  /** The user who holds this handle (case-insensitive), or null. */
  findByHandle(handle: string): Promise<UserRecord | null>
  /** The backend's profile: replaces name and handle, which token values no longer change; takes the handle from whoever held it. */
  putProfile(userId: string, profile: { name: string | null; handle: string | null }): Promise<PutProfileResult>
  /**
   * Records a verified token: always its `access` claim (absent: `null`); its `name` and `handle`
   * when present, unless the backend has set the profile; the handle only when nobody else holds it.
   */
  rememberToken(userId: string, token: TokenProfile): Promise<RememberedToken>
  /**
   * Users with a search key (handle, name, or the name from one of its words on, lower-cased)
   * that starts with `query` (lower-cased; empty: everyone), in order of the matching key, then
   * user id; one index range read per page, continuing after `page.after` (keyset paging).
   */
  search(query: string, page: { limit: number; after: DirectoryCursor | null }): Promise<DirectoryPage>
}

/**
 * Which user owns each Yjs client id in a document (the write guard binds a client id to the first
 * user who writes with it). Kept across restarts, so that nobody can claim another user's client id
 * once the server has forgotten it.
 */
export interface ClientOwnerStore {
  /** Every binding of a document. */
  owners(documentName: string): Promise<Map<number, string>>
  /** Binds client ids to a user; an existing binding is kept, whoever it names. */
  bind(documentName: string, clients: readonly number[], userId: string): Promise<void>
}

/** Push devices of users (core/delivery/devices.ts). */
export interface DeviceStore {
  /** Registers the device, or refreshes it (same id: its token, e.g. new Web Push keys); keeps the newest `max` of the user, removing the rest. */
  register(device: DeviceRecord, max: number): Promise<{ device: DeviceRecord; removed: string[] }>
  /** The user's devices, oldest first. */
  list(userId: string): Promise<DeviceRecord[]>
  /** Removes one of the user's devices; true when there was one. */
  remove(userId: string, id: string): Promise<boolean>
  /** Removes a device the push service declared dead (any user). */
  forget(id: string): Promise<void>
  /** Records that a push went to the device. */
  markSent(id: string, at: number): Promise<void>
}

/** Delivery statuses per (notification, channel, device) (core/delivery/deliveries.ts). */
export interface DeliveryStore {
  /** Creates or replaces the record with this id. */
  put(record: DeliveryRecord): Promise<void>
  get(id: string): Promise<DeliveryRecord | null>
  /** A notification's deliveries, by channel and device. */
  ofNotification(userId: string, notificationId: string): Promise<DeliveryRecord[]>
  /** Deliveries with a status, newest change first, after a cursor (updatedAt, id). */
  list(status: DeliveryStatus, limit: number, after: { updatedAt: number; id: string } | null): Promise<DeliveryRecord[]>
}

/** Each user's notification preferences: only what they set (core/notifications/preferences.ts fills the rest). */
export interface PreferenceStore {
  get(userId: string): Promise<StoredPreferences | null>
  /** The preferences of those of these users that set any (one read for a whole batch of recipients). */
  getMany(userIds: readonly string[]): Promise<Map<string, StoredPreferences>>
  /** Replaces the user's preferences with `change(current)` atomically: concurrent changes are applied one after the other. */
  update(userId: string, change: (current: StoredPreferences | null) => StoredPreferences): Promise<StoredPreferences>
}

export interface Storage {
  /** Which backend this is, for logs and `/ready`. */
  readonly kind: 'sqlite' | 'postgres'
  readonly documents: DocumentStore
  readonly subjects: SubjectStore
  readonly users: UserStore
  readonly clientOwners: ClientOwnerStore
  /** Notifications, the mentions and comments already handled, the outbox and detection marks. */
  readonly notifications: NotificationStore
  readonly preferences: PreferenceStore
  readonly devices: DeviceStore
  readonly deliveries: DeliveryStore
  /** The comment search index (issue 20). */
  readonly search: SearchStore
  /** Feed activities, items and trending counters (issue 18). */
  readonly feeds: FeedStore
  /** Hidden words, reports, bans and the moderation log (issue 19). */
  readonly moderation: ModerationStore
  /** The webhook outbox (issue 17). */
  readonly webhooks: WebhookStore
  /** Users' email and locale (issue 17). */
  readonly contacts: ContactStore
  /** Resolves when the backend answers a trivial query; rejects with the reason otherwise. */
  ping(): Promise<void>
  /** Finishes pending work and releases the backend. Further calls fail. */
  close(): Promise<void>
}
