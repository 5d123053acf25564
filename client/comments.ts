/**
 * `client.comments(subjectId)`: the threads of one subject as a typed snapshot, a batched change
 * subscription, and every operation of the contract, written as the token's user.
 */
import {
  commentsDocumentName,
  createThread,
  deleteComment,
  editComment,
  markRead,
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
  type Thread,
  type WriteContext,
} from '../protocol/index.ts'
import type * as Y from 'yjs'
import { batchPerTick } from './batch.ts'
import type { DocumentSession } from './session.ts'

export class CommentsHandle {
  readonly subjectId: string
  readonly documentName: string
  private readonly session: DocumentSession
  private readonly writer: { userId: string; newId: (() => string) | undefined }
  private readonly onClose: () => void
  private cachedThreads: Thread[] | null = null
  private readonly observers = new Set<(threads: Thread[]) => void>()
  private readonly batch = batchPerTick(() => {
    const threads = this.threads()
    for (const observer of this.observers) observer(threads)
  })
  private readonly unsubscribe: () => void

  constructor(subjectId: string, session: DocumentSession, writer: { userId: string; newId: (() => string) | undefined }, onClose: () => void) {
    this.subjectId = subjectId
    this.documentName = commentsDocumentName(subjectId)
    this.session = session
    this.writer = writer
    this.onClose = onClose
    this.unsubscribe = session.events.on('change', () => {
      this.cachedThreads = null
      if (this.observers.size > 0) this.batch.schedule()
    })
  }

  private get ctx(): WriteContext {
    const { userId, newId } = this.writer
    return newId ? { doc: this.session.doc, userId, newId } : { doc: this.session.doc, userId }
  }

  /** Resolves once local data is loaded and the first sync with the server completed. */
  whenSynced(): Promise<void> {
    if (this.session.synced) return Promise.resolve()
    return new Promise((resolve) => {
      const off = this.session.events.on('synced', (synced) => {
        if (!synced) return
        off()
        resolve()
      })
    })
  }

  /** The live Y.Doc, for bindings that need it; a rollback swaps it, so do not keep it. */
  get doc(): Y.Doc {
    return this.session.doc
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

  createThread(body: BodyInput, metadata?: Record<string, unknown>): { threadId: string; commentId: string } {
    return createThread(this.ctx, body, metadata)
  }

  reply(threadId: string, body: BodyInput, parentId?: string): { commentId: string } {
    return reply(this.ctx, threadId, body, parentId)
  }

  edit(threadId: string, commentId: string, body: BodyInput): void {
    editComment(this.ctx, threadId, commentId, body)
  }

  /** Soft delete: the comment stays as deleted for every reader. */
  delete(threadId: string, commentId: string): void {
    deleteComment(this.ctx, threadId, commentId)
  }

  react(threadId: string, commentId: string, emoji: string): void {
    react(this.ctx, threadId, commentId, emoji)
  }

  unreact(threadId: string, commentId: string, emoji: string): void {
    unreact(this.ctx, threadId, commentId, emoji)
  }

  resolve(threadId: string): void {
    setResolved(this.ctx, threadId, true)
  }

  reopen(threadId: string): void {
    setResolved(this.ctx, threadId, false)
  }

  markRead(threadId: string): void {
    markRead(this.ctx, threadId)
  }

  /** Notifications for this thread, whatever the defaults. */
  subscribe(threadId: string): void {
    setSubscription(this.ctx, threadId, true)
  }

  /** No notifications for this thread. */
  mute(threadId: string): void {
    setSubscription(this.ctx, threadId, false)
  }

  follow(): void {
    setFollowing(this.ctx, true)
  }

  unfollow(): void {
    setFollowing(this.ctx, false)
  }

  /** Releases the provider, listeners and timers; the server unloads the document once nobody holds it. */
  close(): void {
    this.batch.cancel()
    this.observers.clear()
    this.unsubscribe()
    this.session.close()
    this.onClose()
  }
}
