/**
 * Hide and unhide (contract additions, "Moderation"), as server-side writes through the write guard.
 *
 * Hide: the comment's words are kept in storage first (`hidden_bodies`), then one transaction sets
 * `moderation` and empties the body, so every client sees both at once and no word is lost if the
 * write fails half way (the kept copy is dropped again when the write is refused). Unhide: the kept
 * words are written back and `moderation` is removed in one transaction (core/guard/deleted-bodies.ts
 * would empty them again otherwise). The words are the author's: the server writes them back as
 * the author, with the `moderate` role for clearing `moderation`. The guard checks both writes.
 */
import {
  commentsDocumentName,
  CommentField,
  err,
  ok,
  ParleyError,
  readModeration,
  readRuns,
  type BodyRun,
  type Moderation,
  type ParleyErrorInfo,
  type Result,
  type Role,
} from '../../protocol/index.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import type { ParleyEvents } from '../../core/events.ts'
import type { Storage } from '../../core/storage/types.ts'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { hideComment, liveComment, unhideComment } from '../documents/comment-writes.ts'
import { readDocument } from '../documents/read.ts'
import type { ServerWriter, WriteRefusal } from '../documents/write.ts'

export interface HideDependencies {
  logger: Logger
  storage: Storage
  hocuspocus: Hocuspocus
  writer: ServerWriter
  events: ParleyEvents
  now: () => number
}

export interface CommentTarget {
  subjectId: string
  threadId: string
  commentId: string
}

/** A comment as it is now: its author, words, and whether it is hidden. */
interface Peek {
  authorId: string
  runs: BodyRun[]
  moderation: Moderation | null
}

/** Reads the comment from the live document (or storage): 404 unknown, 409 deleted. */
export async function peekComment(hocuspocus: Hocuspocus, target: CommentTarget): Promise<Result<Peek, ParleyErrorInfo>> {
  return readDocument(hocuspocus, commentsDocumentName(target.subjectId), (doc): Result<Peek, ParleyErrorInfo> => {
    try {
      const comment = liveComment(doc, target.threadId, target.commentId)
      const body = comment.get(CommentField.body)
      return ok({
        authorId: String(comment.get(CommentField.authorId)),
        runs: body instanceof Y.Text ? readRuns(body) : [],
        moderation: readModeration(comment.get(CommentField.moderation)),
      })
    } catch (error) {
      if (error instanceof ParleyError) return err({ code: error.code, message: error.message })
      throw error
    }
  })
}

/**
 * Merges storage's snapshot and log through a garbage-collecting Y.Doc: deleted content (the hidden
 * words) leaves the stored rows too, not only the state clients receive. A plain compaction
 * (`Y.mergeUpdates`) would keep deleted text in the merged update.
 */
export function mergeCollectingGarbage(updates: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true })
  doc.transact(() => {
    for (const update of updates) Y.applyUpdate(doc, update)
  })
  return Y.encodeStateAsUpdate(doc)
}

/** After a hide: the words leave storage's rows. A failure keeps the log whole (and is logged): the hide stands. */
async function scrubStoredWords(deps: HideDependencies, documentName: string): Promise<void> {
  try {
    await deps.storage.documents.compact(documentName, mergeCollectingGarbage)
  } catch (error) {
    deps.logger.error(
      { err: error, documentName },
      'the stored log could not be compacted after a hide; the hidden words stay in its rows until the next compaction',
    )
  }
}

export type ModerationOutcome = Result<{ authorId: string; moderation: Moderation | null; changed: boolean }, WriteRefusal>

export async function hide(
  deps: HideDependencies,
  moderator: { user: ParleyUser; role: Role },
  target: CommentTarget,
  reason: string,
): Promise<ModerationOutcome> {
  const peek = await peekComment(deps.hocuspocus, target)
  if (!peek.ok) return peek
  if (peek.value.moderation) return ok({ authorId: peek.value.authorId, moderation: peek.value.moderation, changed: false })
  const at = deps.now()
  const kept = { ...target, authorId: peek.value.authorId, hiddenBy: moderator.user.id, reason, at }
  await deps.storage.moderation.putHidden({ ...kept, runs: peek.value.runs })
  const written = await deps.writer.write(commentsDocumentName(target.subjectId), moderator, (doc) =>
    hideComment({ doc, userId: moderator.user.id, now: () => at }, target.threadId, target.commentId, reason),
  )
  if (!written.ok || !written.value.changed) {
    // Refused, or hidden meanwhile by someone else (whose words were kept then): keep nothing of ours.
    if (!written.ok) await deps.storage.moderation.removeHidden(target.subjectId, target.commentId)
    return written.ok ? ok({ authorId: written.value.authorId, moderation: written.value.moderation, changed: false }) : written
  }
  // An edit between the read and the write: keep the words that actually left the document.
  if (JSON.stringify(written.value.runs) !== JSON.stringify(peek.value.runs)) {
    await deps.storage.moderation.putHidden({ ...kept, runs: written.value.runs })
  }
  await scrubStoredWords(deps, commentsDocumentName(target.subjectId))
  deps.events.emit('comment.hidden', { ...target, authorId: written.value.authorId, moderatorId: moderator.user.id, reason })
  return ok({ authorId: written.value.authorId, moderation: written.value.moderation, changed: true })
}

export async function unhide(deps: HideDependencies, moderator: { user: ParleyUser; role: Role }, target: CommentTarget): Promise<ModerationOutcome> {
  const peek = await peekComment(deps.hocuspocus, target)
  if (!peek.ok) return peek
  if (!peek.value.moderation) return ok({ authorId: peek.value.authorId, moderation: null, changed: false })
  const kept = await deps.storage.moderation.hidden(target.subjectId, target.commentId)
  const { authorId } = peek.value
  // The author's words, written back as the author; `moderate` to clear `moderation` (the guard checks both).
  const author: ParleyUser = { id: authorId, name: undefined, handle: undefined, access: undefined, expiresAt: undefined }
  const written = await deps.writer.write(commentsDocumentName(target.subjectId), { user: author, role: 'moderate' }, (doc) =>
    unhideComment({ doc, userId: authorId }, target.threadId, target.commentId, kept?.runs ?? []),
  )
  if (!written.ok) return written
  if (written.value.changed) {
    await deps.storage.moderation.removeHidden(target.subjectId, target.commentId)
    deps.events.emit('comment.unhidden', { ...target, authorId, moderatorId: moderator.user.id })
  }
  return ok({ authorId, moderation: null, changed: written.value.changed })
}
