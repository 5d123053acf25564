/**
 * Typed events in process: what `createParleyServer(...).events` emits. Each event has the shape
 * webhooks will send (`{ id, type, createdAt, data }`). Events describe writes that entered
 * through this instance (a client connection or a server-side write), so with several instances
 * each write is announced once, by the instance that received it. A handler's error is caught,
 * logged and counted; it never reaches the write that caused the event.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { NotificationRecord } from './storage/types.ts'

interface CommentRef {
  subjectId: string
  threadId: string
  commentId: string
}

export interface ParleyEventData {
  'comment.created': CommentRef & { authorId: string; parentId: string | null; text: string; mentions: string[] }
  'comment.edited': CommentRef & { authorId: string; text: string; mentions: string[] }
  'comment.deleted': CommentRef & { authorId: string }
  'reaction.added': CommentRef & { userId: string; emoji: string }
  'reaction.removed': CommentRef & { userId: string; emoji: string }
  'thread.resolved': { subjectId: string; threadId: string; userId: string | null }
  'mention.created': CommentRef & { authorId: string; userId: string; notificationId: string }
  'notification.created': { userId: string; notification: NotificationRecord }
  'comment.hidden': CommentRef & { authorId: string; moderatorId: string; reason: string }
  'comment.unhidden': CommentRef & { authorId: string; moderatorId: string }
  'comment.reported': CommentRef & { authorId: string; reporterId: string; reason: string; reporters: number }
  /** A thread's first comment was recorded (once, by whichever instance detected it). */
  'thread.created': CommentRef & { authorId: string }
  'thread.reopened': { subjectId: string; threadId: string; userId: string | null }
  /** A channel handed a notification to the user (push: the service accepted it). */
  'notification.delivered': {
    userId: string
    notificationId: string
    subjectId: string
    channel: string
    deviceId: string | null
    attempts: number
    /** The notification's `notifiedAt` this delivery is for. */
    round: number
  }
  /** An activity was recorded for feeds (once, by its idempotency key); it creates an item or folds into one. */
  'feed.item.created': {
    itemId: string
    feedIds: string[]
    type: string
    subjectId: string | null
    threadId: string | null
    commentId: string | null
    actorIds: string[]
    summary: string | null
    priority: string
    at: number
  }
}

export type ParleyEventType = keyof ParleyEventData

/** Every event type, in the contract's order. */
export const EVENT_TYPES: readonly ParleyEventType[] = [
  'comment.created',
  'comment.edited',
  'comment.deleted',
  'reaction.added',
  'reaction.removed',
  'thread.resolved',
  'mention.created',
  'notification.created',
  'comment.hidden',
  'comment.unhidden',
  'comment.reported',
  'thread.created',
  'thread.reopened',
  'notification.delivered',
  'feed.item.created',
]

export interface ParleyEvent<T extends ParleyEventType = ParleyEventType> {
  /** Unique per event; deterministic for mentions and notifications (receivers dedupe by it). */
  id: string
  type: T
  createdAt: number
  data: ParleyEventData[T]
}

export type ParleyEventHandler<T extends ParleyEventType> = (event: ParleyEvent<T>) => void | Promise<void>

export interface ParleyEvents {
  /** Calls `handler` for every event of `type`; returns the function that stops it. */
  on<T extends ParleyEventType>(type: T, handler: ParleyEventHandler<T>): () => void
  off<T extends ParleyEventType>(type: T, handler: ParleyEventHandler<T>): void
  /** Calls `handler` for every event of any type. */
  onAny(handler: (event: ParleyEvent) => void | Promise<void>): () => void
  emit<T extends ParleyEventType>(type: T, data: ParleyEventData[T], id?: string): void
}

export function createEvents(logger: Logger, onHandlerError: () => void): ParleyEvents {
  const handlers = new Map<ParleyEventType, Set<(event: ParleyEvent) => void | Promise<void>>>()
  const any = new Set<(event: ParleyEvent) => void | Promise<void>>()

  const call = (handler: (event: ParleyEvent) => void | Promise<void>, event: ParleyEvent) => {
    const failed = (error: unknown) => {
      onHandlerError()
      logger.error({ err: error, type: event.type, eventId: event.id }, 'an event handler failed')
    }
    try {
      const result = handler(event)
      if (result instanceof Promise) result.catch(failed)
    } catch (error) {
      failed(error)
    }
  }

  const events: ParleyEvents = {
    on(type, handler) {
      const set = handlers.get(type) ?? new Set()
      set.add(handler as (event: ParleyEvent) => void | Promise<void>)
      handlers.set(type, set)
      return () => events.off(type, handler)
    },
    off(type, handler) {
      handlers.get(type)?.delete(handler as (event: ParleyEvent) => void | Promise<void>)
    },
    onAny(handler) {
      any.add(handler)
      return () => any.delete(handler)
    },
    emit(type, data, id) {
      const listeners = handlers.get(type)
      if (!listeners?.size && any.size === 0) return
      const event: ParleyEvent = { id: id ?? randomUUID(), type, createdAt: Date.now(), data }
      for (const handler of [...(listeners ?? []), ...any]) call(handler, event)
    },
  }
  return events
}
