/**
 * The in-app channel: projects a user's latest notifications from storage into `inbox/<userId>`
 * through a direct connection kept open while the inbox is active (a client has it open, or it
 * was written within {@link INBOX_IDLE_MS}). An inbox no client has open is not written at all (when
 * `idle` says so): it is projected from storage when a client opens it. A delivery sets only the
 * notifications it names, from storage, and trims the document to the latest ones; a fresh
 * connection projects the whole latest list. Either way each value comes from storage, so
 * replays and concurrent projections (other instances) are harmless.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { inboxDocumentName } from '../../protocol/index.ts'
import { PROJECTOR_CONTEXT } from '../origins.ts'
import type { OutboxRow, Storage } from '../storage/types.ts'
import { project, upsert } from './inbox-document.ts'

/** Notifications an inbox document holds; older ones are read through REST. */
export const INBOX_DOCUMENT_LIMIT = 50

/** How long the server keeps an inbox open after its last projection when no client has it open. */
export const INBOX_IDLE_MS = 30_000

type DirectConnection = Awaited<ReturnType<Hocuspocus['openDirectConnection']>>

/** One row's outcome: null when delivered, why not (retried with backoff), or why not and when to try again. */
export type RowOutcome = string | null | { error: string; retryAt: number }

/** A channel's delivery: per row, its outcome. */
export interface Deliverer {
  deliver(rows: readonly OutboxRow[]): Promise<RowOutcome[]>
}

export interface InboxProjector extends Deliverer {
  /** Projects the user's inbox from storage now (in order with other projections of that user). */
  sync(userId: string): Promise<void>
  /** Projects the user's inbox when a delivery skipped it since its last projection (a client opens a loaded inbox). */
  syncIfSkipped(userId: string): Promise<void>
  /** The inbox document was unloaded: its next load projects it anyway. */
  unloaded(userId: string): void
  /** Closes every direct connection. */
  close(): Promise<void>
}

interface ActiveInbox {
  connection: DirectConnection | null
  chain: Promise<void>
  timer: NodeJS.Timeout | undefined
}

export interface ProjectorOptions {
  /** Opens a direct connection (Hocuspocus `openDirectConnection`). */
  open(documentName: string, context: Record<string, unknown>): Promise<DirectConnection>
  storage: Storage
  logger: Logger
  limit?: number
  idleMs?: number
  /** The link template of each notification (`PARLEY_APP_URL`). */
  appUrl?: string | undefined
  /**
   * True when nobody can be looking at the user's inbox document (single instance, no client has
   * it open nor is loading it): delivery then writes nothing and lets go of the document, which
   * projects from storage when a client opens it ({@link InboxProjector.syncIfSkipped} when it is
   * still loaded). Under load most recipients are offline; this keeps a fan-out to followers from
   * writing every one of their inbox documents. Unset: always project.
   */
  idle?: ((userId: string) => boolean) | undefined
  /** Whether the user's inbox document is loaded here (a skipped delivery is remembered only then). Unset: assume it is. */
  loaded?: ((userId: string) => boolean) | undefined
}

export function createInboxProjector(options: ProjectorOptions): InboxProjector {
  const { storage, logger } = options
  const limit = options.limit ?? INBOX_DOCUMENT_LIMIT
  const idleMs = options.idleMs ?? INBOX_IDLE_MS
  const active = new Map<string, ActiveInbox>()
  let closed = false

  const release = (userId: string, inbox: ActiveInbox) => {
    inbox.chain = inbox.chain.then(async () => {
      const clients = inbox.connection?.document?.getConnectionsCount() ?? 0
      // Our own direct connection counts as one: keep the inbox while a client has it open.
      if (!closed && clients > 1) return idle(userId, inbox)
      if (active.get(userId) === inbox) active.delete(userId)
      const connection = inbox.connection
      inbox.connection = null
      await connection?.disconnect()
    })
  }

  const idle = (userId: string, inbox: ActiveInbox) => {
    clearTimeout(inbox.timer)
    inbox.timer = setTimeout(() => release(userId, inbox), idleMs)
    inbox.timer.unref()
  }

  /** Users whose inbox stayed loaded while a delivery skipped it, since their last whole projection. */
  const skipped = new Set<string>()

  /** Runs `work` on the user's inbox in order with the user's other projections; `fresh` when the connection was just opened. */
  const run = (userId: string, work: (connection: DirectConnection, fresh: boolean) => Promise<void>): Promise<void> => {
    if (closed) return Promise.reject(new Error('the inbox projector is closed'))
    let inbox = active.get(userId)
    if (!inbox) {
      inbox = { connection: null, chain: Promise.resolve(), timer: undefined }
      active.set(userId, inbox)
    }
    const current = inbox
    const job = current.chain.then(async () => {
      const fresh = current.connection === null
      current.connection ??= await options.open(inboxDocumentName(userId), { ...PROJECTOR_CONTEXT })
      await work(current.connection, fresh)
      idle(userId, current)
    })
    current.chain = job.catch(() => undefined)
    return job
  }

  const projectAll = async (userId: string, connection: DirectConnection) => {
    const latest = await storage.notifications.list(userId, { unreadOnly: false, limit, after: null })
    await connection.transact((doc) => project(doc, latest, options.appUrl))
  }

  const sync = (userId: string) => {
    skipped.delete(userId)
    return run(userId, (connection) => projectAll(userId, connection))
  }

  /** Sets the named notifications; the whole list when the connection is new or one of them is gone. */
  const refresh = (userId: string, ids: readonly string[]) =>
    run(userId, async (connection, fresh) => {
      if (fresh) return projectAll(userId, connection)
      const records = await Promise.all(ids.map((id) => storage.notifications.get(userId, id)))
      const present = records.filter((record) => record !== null)
      if (present.length < records.length) return projectAll(userId, connection)
      await connection.transact((doc) => upsert(doc, present, limit, options.appUrl))
    })

  return {
    sync,
    syncIfSkipped: (userId) => (skipped.has(userId) ? sync(userId) : Promise.resolve()),
    unloaded: (userId) => {
      skipped.delete(userId)
    },
    async deliver(rows) {
      const byUser = new Map<string, Set<string>>()
      for (const row of rows) {
        const ids = byUser.get(row.userId) ?? new Set<string>()
        ids.add(row.notificationId)
        byUser.set(row.userId, ids)
      }
      const outcome = new Map<string, string | null>()
      await Promise.all(
        [...byUser].map(async ([userId, ids]) => {
          try {
            // Projected when a client opens it (extensions/inbox); let go of it meanwhile.
            if (options.idle?.(userId)) {
              if (options.loaded?.(userId) ?? true) skipped.add(userId)
              const inbox = active.get(userId)
              if (inbox) {
                clearTimeout(inbox.timer)
                release(userId, inbox)
              }
              outcome.set(userId, null)
              return
            }
            await refresh(userId, [...ids])
            outcome.set(userId, null)
          } catch (error) {
            logger.warn({ userId, err: error }, 'inbox projection failed; retried with backoff')
            outcome.set(userId, error instanceof Error ? error.message : String(error))
          }
        }),
      )
      return rows.map((row) => outcome.get(row.userId) ?? null)
    },
    async close() {
      closed = true
      await Promise.all(
        [...active.entries()].map(([userId, inbox]) => {
          clearTimeout(inbox.timer)
          release(userId, inbox)
          return inbox.chain
        }),
      )
    },
  }
}
