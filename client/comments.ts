/**
 * `client.comments(subjectId)`: the threads of one subject as a typed snapshot, a batched change
 * subscription, and every operation of the contract, written as the token's user. When the server
 * refuses a change, the handle rolls back to the server's state and applies the user's other
 * pending operations again.
 */
import type * as Y from 'yjs'
import {
  commentsDocumentName,
  createThread,
  deleteComment,
  editComment,
  ErrorCode,
  markRead,
  ParleyError,
  react,
  readFollowers,
  readThreads,
  reply,
  setFollowing,
  setResolved,
  setSubscription,
  unreact,
  type BodyInput,
  type FollowerRole,
  type Moderation,
  type ParleyErrorInfo,
  type Thread,
  type WriteContext,
} from '../protocol/index.ts'
import { batchPerTick } from './batch.ts'
import { PendingLog } from './pending.ts'
import type { RestCaller } from './rest.ts'
import type { DocumentSession } from './session.ts'

/** Rollbacks in a row (without a fully acknowledged state between) after which pending operations are dropped. */
export const MAX_CONSECUTIVE_ROLLBACKS = 2

export interface Writer {
  userId: string
  newId: (() => string) | undefined
  /** REST, for hide, unhide and report (the server does them). */
  rest?: RestCaller | undefined
}

export class CommentsHandle {
  readonly subjectId: string
  readonly documentName: string
  private readonly session: DocumentSession
  private readonly writer: Writer
  private readonly onClose: () => void
  private readonly pending = new PendingLog()
  private rollbacks = 0
  private cachedThreads: Thread[] | null = null
  private readonly observers = new Set<(threads: Thread[]) => void>()
  private readonly batch = batchPerTick(() => {
    const threads = this.threads()
    for (const observer of this.observers) observer(threads)
  })
  private readonly unsubscribe: Array<() => void>

  constructor(subjectId: string, session: DocumentSession, writer: Writer, onClose: () => void) {
    this.subjectId = subjectId
    this.documentName = commentsDocumentName(subjectId)
    this.session = session
    this.writer = writer
    this.onClose = onClose
    this.unsubscribe = [
      session.events.on('change', () => {
        this.cachedThreads = null
        if (this.observers.size > 0) this.batch.schedule()
      }),
      session.events.on('sending', (count) => {
        if (count === 0 && session.synced) this.rollbacks = 0
      }),
      session.events.on('rejected', (error) => void this.rollback(error)),
    ]
  }

  private get ctx(): WriteContext {
    const { userId, newId } = this.writer
    return newId ? { doc: this.session.doc, userId, newId } : { doc: this.session.doc, userId }
  }

  /** The live Y.Doc, for bindings that need it; a rollback swaps it, so do not keep it. */
  get doc(): Y.Doc {
    return this.session.doc
  }

  /** Resolves once local data is loaded and the first sync with the server completed. */
  whenSynced(): Promise<void> {
    return this.session.whenSynced()
  }

  get synced(): boolean {
    return this.session.synced
  }

  /** Local changes to this subject the server has not acknowledged yet. */
  get sending(): number {
    return this.session.sending
  }

  /** The threads now, oldest first; the same array until the document changes. */
  threads(): Thread[] {
    this.cachedThreads ??= readThreads(this.session.doc)
    return this.cachedThreads
  }

  thread(threadId: string): Thread | undefined {
    return this.threads().find((t) => t.id === threadId)
  }

  followers(): Record<string, FollowerRole> {
    return readFollowers(this.session.doc)
  }

  /** Calls `observer` with the threads after changes, at most once per tick. */
  observe(observer: (threads: Thread[]) => void): () => void {
    this.observers.add(observer)
    return () => {
      this.observers.delete(observer)
      if (this.observers.size === 0) this.batch.cancel()
    }
  }

  private track<T>(describe: string, run: (ctx: WriteContext) => T): T {
    return this.pending.record(this.ctx, describe, run)
  }

  createThread(body: BodyInput, metadata?: Record<string, unknown>): { threadId: string; commentId: string } {
    return this.track('createThread', (ctx) => createThread(ctx, body, metadata))
  }

  reply(threadId: string, body: BodyInput, parentId?: string): { commentId: string } {
    return this.track(`reply ${threadId}`, (ctx) => reply(ctx, threadId, body, parentId))
  }

  edit(threadId: string, commentId: string, body: BodyInput): void {
    this.track(`edit ${threadId}/${commentId}`, (ctx) => editComment(ctx, threadId, commentId, body))
  }

  private commentPath(threadId: string, commentId: string, action: string): string {
    const parts = [this.subjectId, 'threads', threadId, 'comments', commentId].map(encodeURIComponent)
    return `/api/v1/subjects/${parts.join('/')}/${action}`
  }

  private moderationCall(threadId: string, commentId: string, action: 'hide' | 'unhide' | 'report', body: unknown): Promise<unknown> {
    const rest = this.writer.rest
    if (!rest) return Promise.reject(new ParleyError(ErrorCode.InvalidRequest, `${action} needs the server's REST API, which this client was not given`))
    return rest.post(this.commentPath(threadId, commentId, action), body)
  }

  /**
   * Hides a comment (moderators): its words leave the document, kept by the server, and
   * `moderation` appears on every client. Resolves with the comment's `moderation`.
   */
  async hide(threadId: string, commentId: string, reason?: string): Promise<Moderation | null> {
    const answer = (await this.moderationCall(threadId, commentId, 'hide', reason === undefined ? {} : { reason })) as { moderation: Moderation | null }
    return answer.moderation
  }

  /** Unhides a comment (moderators): the server writes its words back. */
  async unhide(threadId: string, commentId: string): Promise<void> {
    await this.moderationCall(threadId, commentId, 'unhide', {})
  }

  /** Reports a comment to the subject's moderators (once per user; a repeat is not counted). */
  async report(threadId: string, commentId: string, reason: string): Promise<void> {
    await this.moderationCall(threadId, commentId, 'report', { reason })
  }

  /** Soft delete: the comment stays as deleted for every reader. */
  delete(threadId: string, commentId: string): void {
    this.track(`delete ${threadId}/${commentId}`, (ctx) => deleteComment(ctx, threadId, commentId))
  }

  react(threadId: string, commentId: string, emoji: string): void {
    this.track(`react ${threadId}/${commentId}`, (ctx) => react(ctx, threadId, commentId, emoji))
  }

  unreact(threadId: string, commentId: string, emoji: string): void {
    this.track(`unreact ${threadId}/${commentId}`, (ctx) => unreact(ctx, threadId, commentId, emoji))
  }

  resolve(threadId: string): void {
    this.track(`resolve ${threadId}`, (ctx) => setResolved(ctx, threadId, true))
  }

  reopen(threadId: string): void {
    this.track(`reopen ${threadId}`, (ctx) => setResolved(ctx, threadId, false))
  }

  markRead(threadId: string): void {
    this.track(`markRead ${threadId}`, (ctx) => markRead(ctx, threadId))
  }

  /** Notifications for this thread, whatever the defaults. */
  subscribe(threadId: string): void {
    this.track(`subscribe ${threadId}`, (ctx) => setSubscription(ctx, threadId, true))
  }

  /** No notifications for this thread. */
  mute(threadId: string): void {
    this.track(`mute ${threadId}`, (ctx) => setSubscription(ctx, threadId, false))
  }

  follow(): void {
    this.track('follow', (ctx) => setFollowing(ctx, true))
  }

  unfollow(): void {
    this.track('unfollow', (ctx) => setFollowing(ctx, false))
  }

  /**
   * The server refused a change: rebuild from the server's state under a new client id (the local
   * store purged), apply the user's other pending operations again, and report what was dropped.
   */
  private async rollback(error: ParleyErrorInfo): Promise<void> {
    this.rollbacks++
    const old = await this.session.reset()
    await this.whenSynced()
    // What the server has of the old document's operations is now known: replay the rest.
    const operations = this.pending.takeMissing(this.session.doc)
    old.destroy()
    const rolledBack: string[] = []
    const reapplied: string[] = []
    for (const operation of operations) {
      if (this.rollbacks > MAX_CONSECUTIVE_ROLLBACKS) {
        rolledBack.push(operation.describe)
        continue
      }
      try {
        this.pending.replay(operation, this.ctx)
        reapplied.push(operation.describe)
      } catch {
        rolledBack.push(operation.describe)
      }
    }
    this.session.events.emit('error', { ...error, documentName: this.documentName, rolledBack, reapplied })
  }

  /**
   * Releases listeners and timers, and the subject's session (its provider closes once no other
   * handle, such as presence, holds it); the server unloads the document once nobody holds it.
   */
  close(): void {
    this.batch.cancel()
    this.observers.clear()
    for (const off of this.unsubscribe) off()
    this.onClose()
  }
}
