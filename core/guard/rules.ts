/**
 * The write rules of a Parley document, per place: who may write which key, and what values are
 * allowed. "Fresh" is a type created by the update being checked; "existing" is in the document.
 */
import * as Y from 'yjs'
import {
  CommentField,
  ID_PATTERN,
  MAX_EMOJI_LENGTH,
  MENTION_ATTRIBUTE,
  NotificationField,
  REACTION_SEPARATOR,
  ThreadField,
  roleAtLeast,
  type Role,
} from '../../protocol/index.ts'
import { metadataEntryRefusal } from './metadata.ts'
import type { Place } from './places.ts'
import { timeRefusal } from './times.ts'

export interface Actor {
  userId: string
  role: Role
}

/** A rule's answer: null when allowed, otherwise why not. */
export type RuleResult = string | null

/** Most JSON characters a moderation reason may have. */
export const MAX_MODERATION_REASON_LENGTH = 500

const isId = (v: unknown): v is string => typeof v === 'string' && ID_PATTERN.test(v)
/** A time as the document holds it (for reading state such as "deleted"); new times must pass {@link timeRefusal}. */
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0

/** Notification fields the inbox owner may set, each null or a time ({@link markAllowed}). */
const OWNER_MARKS: readonly string[] = [NotificationField.readAt, NotificationField.seenAt, NotificationField.archivedAt]

export function isValidEmoji(emoji: string): boolean {
  return emoji.length > 0 && emoji.length <= MAX_EMOJI_LENGTH && !emoji.includes(REACTION_SEPARATOR)
}

/** Splits a reaction key into emoji and user id. */
export function parseReactionKey(key: string): { emoji: string; userId: string } | null {
  const split = key.lastIndexOf(REACTION_SEPARATOR)
  if (split <= 0) return null
  return { emoji: key.slice(0, split), userId: key.slice(split + 1) }
}

/** What the rules need to know about the document around a write. */
export interface Facts {
  actor: Actor
  /** A field of a thread or comment, as it will be after this update (update first, then document). */
  field(type: Place['self'], key: string): unknown
  /** Whether the type was created by this update. */
  isFresh(type: Place['self']): boolean
}

const moderates = (actor: Actor) => roleAtLeast(actor.role, 'moderate')
const comments = (actor: Actor) => roleAtLeast(actor.role, 'comment')

function author(place: Place, facts: Facts): unknown {
  return place.comment === null ? undefined : facts.field(place.comment, CommentField.authorId)
}

/** The comment is deleted or hidden, in the document or by this update. */
export function commentGone(place: Place, facts: Facts): boolean {
  if (place.comment === null) return false
  const deletedAt = facts.field(place.comment, CommentField.deletedAt)
  const moderation = facts.field(place.comment, CommentField.moderation)
  return isTime(deletedAt) || (typeof moderation === 'object' && moderation !== null)
}

/** May the actor write (set, overwrite or remove) `key` of a map-like place? */
export function mayWriteKey(place: Place, key: string, facts: Facts): RuleResult {
  const { actor } = facts
  switch (place.role) {
    case 'threads':
      return comments(actor) ? null : 'creating threads needs the comment role'
    case 'followers':
      return moderates(actor) || key === actor.userId ? null : "another user's follower entry"
    case 'thread': {
      if (!comments(actor)) return 'changing threads needs the comment role'
      if (facts.isFresh(place.self)) return null
      const mutable: string[] = [ThreadField.resolved, ThreadField.resolvedBy, ThreadField.resolvedAt]
      return mutable.includes(key) ? null : `thread field "${key}" cannot change`
    }
    case 'comment': {
      if (!comments(actor)) return 'changing comments needs the comment role'
      if (key === CommentField.moderation) return moderates(actor) ? null : 'only moderators hide comments'
      if (facts.isFresh(place.self)) return null
      const own = author(place, facts) === actor.userId
      // Also on a deleted comment: an edit made before its author saw the deletion brings its
      // editedAt, a second device or a moderator deletes it again. These were the writer's to make
      // and change no words; deletedAt stays a time (it cannot be removed), so it stays deleted.
      if (key === CommentField.editedAt) return own ? null : "another user's comment"
      if (key === CommentField.deletedAt) return own || moderates(actor) ? null : "another user's comment"
      return `comment field "${key}" cannot change`
    }
    case 'reactions': {
      const parsed = parseReactionKey(key)
      return parsed?.userId === actor.userId && isValidEmoji(parsed.emoji) ? null : "a reaction key that is not the user's own"
    }
    case 'subscribers':
    case 'readBy':
      return key === actor.userId ? null : `another user's ${place.role} entry`
    case 'metadata': {
      if (place.thread === null) return 'metadata outside a thread'
      return moderates(actor) || facts.field(place.thread, ThreadField.createdBy) === actor.userId ? null : "metadata of another user's thread"
    }
    case 'notification':
      return OWNER_MARKS.includes(key) ? null : `notification field "${key}" is written by the server`
    default:
      return `writes into ${place.role} are not allowed`
  }
}

/** Is `value` allowed at `key` of a map-like place (for plain values; nested types are checked by place)? */
export function valueAllowed(place: Place, key: string, value: unknown, facts: Facts): RuleResult {
  const { actor } = facts
  switch (place.role) {
    case 'followers':
      if (value === 'host') return moderates(actor) ? null : 'hosts are set by moderators'
      return value === 'follower' ? null : 'a follower entry is "host" or "follower"'
    case 'thread':
      switch (key) {
        case ThreadField.id:
        case ThreadField.createdBy:
          return isId(value) ? null : `${key} must be an id`
        case ThreadField.createdAt:
        case ThreadField.resolvedAt:
          return timeRefusal(`thread ${key}`, value)
        case ThreadField.resolved:
          return typeof value === 'boolean' ? null : 'resolved must be a boolean'
        case ThreadField.resolvedBy:
          return value === actor.userId ? null : 'resolvedBy must be the user'
        default:
          return `"${key}" is not a thread field`
      }
    case 'comment':
      switch (key) {
        case CommentField.id:
        case CommentField.authorId:
        case CommentField.parentId:
          return isId(value) ? null : `${key} must be an id`
        case CommentField.createdAt:
        case CommentField.editedAt:
        case CommentField.deletedAt:
          return timeRefusal(`comment ${key}`, value)
        case CommentField.moderation:
          return moderationAllowed(value, actor)
        default:
          return `"${key}" is not a comment field`
      }
    case 'reactions':
      return timeRefusal('a reaction', value)
    case 'subscribers':
      return typeof value === 'boolean' ? null : 'a subscription is true or false'
    case 'readBy':
      return timeRefusal('a readBy marker', value)
    case 'metadata':
      return metadataEntryRefusal(key, value)?.reason ?? null
    case 'notification':
      return markAllowed(place, key, value, facts)
    default:
      return `"${key}" is not allowed here`
  }
}

const MODERATION_KEYS = ['hiddenBy', 'reason', 'at']

function moderationAllowed(value: unknown, actor: Actor): RuleResult {
  if (value === null) return null
  if (typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return 'moderation must be an object or null'
  const m = value as Record<string, unknown>
  if (Object.keys(m).some((key) => !MODERATION_KEYS.includes(key))) return 'moderation holds only hiddenBy, reason and at'
  if (m.hiddenBy !== actor.userId) return 'moderation.hiddenBy must be the moderator'
  if (typeof m.reason !== 'string' || m.reason.length > MAX_MODERATION_REASON_LENGTH) return 'moderation.reason must be a short string'
  return timeRefusal('moderation.at', m.at)
}

/** An inbox mark: null, or a time not before the notification's `createdAt`. */
function markAllowed(place: Place, key: string, value: unknown, facts: Facts): RuleResult {
  if (value === null) return null
  const refusal = timeRefusal(`notification ${key}`, value)
  if (refusal) return refusal
  const createdAt = facts.field(place.self, NotificationField.createdAt)
  return typeof createdAt === 'number' && (value as number) < createdAt
    ? `notification ${key} must not be before the notification's createdAt (${createdAt})`
    : null
}

/**
 * May the actor insert this content into a comment body? Only its author, only text and mentions.
 * Into a deleted or hidden comment too (an edit racing the deletion or the hide): the server
 * empties such a body again at once (deleted-bodies.ts), and no reader shows a deleted one.
 */
export function bodyInsertAllowed(place: Place, content: Y.Item['content'], facts: Facts, deadOnArrival: boolean): RuleResult {
  if (author(place, facts) !== facts.actor.userId) return "another user's comment body"
  // Text deleted in the same update adds nothing.
  if (content instanceof Y.ContentDeleted || deadOnArrival) return null
  if (content instanceof Y.ContentString) return null
  if (content instanceof Y.ContentFormat) {
    if (content.key !== MENTION_ATTRIBUTE) return `text attribute "${content.key}" is not allowed`
    return content.value === null || isId(content.value) ? null : 'a mention names a user id'
  }
  return 'a comment body holds text and mentions only'
}

/** May the actor delete text from a comment body? Authors may; moderators only to remove hidden or deleted words. */
export function bodyDeleteAllowed(place: Place, facts: Facts): RuleResult {
  if (author(place, facts) === facts.actor.userId) return null
  return moderates(facts.actor) && commentGone(place, facts) ? null : "another user's comment body"
}
