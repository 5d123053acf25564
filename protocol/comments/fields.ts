/**
 * The `comments/<subjectId>` document: root names, field names and the plain shapes readers
 * return. The byte-level description is docs/PROTOCOL.md, "Comment document schema".
 */

/** Root Y.Map: threadId → thread Y.Map. */
export const THREADS = 'threads'
/** Root Y.Map: userId → `"host"` | `"follower"`. */
export const FOLLOWERS = 'followers'

/** Fields of a thread Y.Map. Y types are created with the thread, in the same transaction. */
export const ThreadField = {
  id: 'id',
  createdBy: 'createdBy',
  createdAt: 'createdAt',
  comments: 'comments',
  subscribers: 'subscribers',
  readBy: 'readBy',
  metadata: 'metadata',
  resolved: 'resolved',
  resolvedBy: 'resolvedBy',
  resolvedAt: 'resolvedAt',
} as const

/** Fields of a comment Y.Map. */
export const CommentField = {
  id: 'id',
  authorId: 'authorId',
  createdAt: 'createdAt',
  body: 'body',
  reactions: 'reactions',
  editedAt: 'editedAt',
  deletedAt: 'deletedAt',
  parentId: 'parentId',
  moderation: 'moderation',
} as const

/** The text attribute that marks a mention run; its value is the mentioned user's id. */
export const MENTION_ATTRIBUTE = 'mention'

/** Separates emoji and user id in a reaction key. */
export const REACTION_SEPARATOR = '|'

export type FollowerRole = 'host' | 'follower'

/** A run of a comment body: plain text, or a mention of a user shown as `text`. */
export type BodyRun = { text: string } | { text: string; mention: string }

/** What an SDK call takes as a body: plain text, or runs of text and mentions. */
export type BodyInput = string | ReadonlyArray<BodyRun>

export interface Moderation {
  hiddenBy: string
  reason: string
  at: number
}

export interface Reaction {
  emoji: string
  /** Users who reacted, earliest first. */
  userIds: string[]
}

export interface Comment {
  id: string
  authorId: string
  createdAt: number
  editedAt: number | null
  deletedAt: number | null
  parentId: string | null
  moderation: Moderation | null
  /** Empty when the comment is deleted. */
  body: BodyRun[]
  /** The body as plain text (mentions as their shown text). */
  text: string
  /** Ids of the users mentioned in the body, once each, in order of appearance. */
  mentions: string[]
  reactions: Reaction[]
}

export interface Thread {
  id: string
  createdBy: string
  createdAt: number
  resolved: boolean
  resolvedBy: string | null
  resolvedAt: number | null
  comments: Comment[]
  /** userId → true (subscribed) or false (muted). */
  subscribers: Record<string, boolean>
  /** userId → when the user last read the thread. */
  readBy: Record<string, number>
  metadata: Record<string, unknown>
}
