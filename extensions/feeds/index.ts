/**
 * Feeds in Hocuspocus (issue 18). On `comments/<subjectId>`: a synchronous `afterTransaction`
 * listener reads each transaction that entered through this instance (a client's update or a
 * server-side write; relayed ones are read where they entered, loads never) into feed activities
 * (core/feeds/activities.ts), and records them in order, one document at a time, through the
 * fan-out. Every error is caught, logged and counted: nothing reaches whoever wrote. When the
 * document loads, the comments and reactions of the last {@link RESCAN_WINDOW_MS} are recorded again (an
 * activity already recorded changes nothing): a crash between a write's acknowledgement and its
 * recording is mended when the document loads again (the startup sweep loads such documents). On
 * `feed/<feedId>` opened by a client: the document is projected from storage.
 */
import { type Extension, type afterLoadDocumentPayload, type afterUnloadDocumentPayload } from '@hocuspocus/server'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Logger } from 'pino'
import type * as Y from 'yjs'
import { parseDocumentName } from '../../protocol/index.ts'
import { activitiesOf, FollowerCache, recentActivity, type ReadActivity } from '../../core/feeds/activities.ts'
import type { FeedFaults } from '../../core/feeds/faults.ts'
import type { FanOut } from '../../core/feeds/fanout.ts'
import { hasDuplicateItems } from '../../core/feeds/document.ts'
import { isFeedWriterContext, type FeedWriter } from '../../core/feeds/writer.ts'
import { readTransaction } from '../../core/mentions/diff.ts'
import { isRelayed, LOAD_ORIGIN } from '../../core/origins.ts'
import type { Storage } from '../../core/storage/types.ts'
import { PRIORITY } from '../priorities.ts'

export interface FeedsConfiguration {
  storage: Storage
  fanOut: FanOut
  writer: FeedWriter
  logger: Logger
  /** Half-life of the trending score as stored (ms). */
  trendingHalfLifeMs: number
  now(): number
  /** Comments created and reactions added this long before a load are recorded again when it loads. */
  rescanWindowMs: number
  faults: FeedFaults
  hookError(hook: string): void
}

/** How far back a load records comments and reactions again (their `createdAt`, their time). */
export const RESCAN_WINDOW_MS = 10 * 60_000

type Defaulted = 'now' | 'rescanWindowMs'

const DEFAULTS: Pick<FeedsConfiguration, Defaulted> = { now: () => Date.now(), rescanWindowMs: RESCAN_WINDOW_MS }

interface DocumentState {
  subjectId: string
  followers: FollowerCache
  queue: Promise<void>
  stop(): void
}

export class Feeds implements Extension {
  readonly extensionName = 'parley-feeds'
  readonly priority = PRIORITY.feeds
  private readonly configuration: FeedsConfiguration
  private readonly documents = new Map<string, DocumentState>()
  /** Per loaded feed document, how to stop watching it. */
  private readonly feedListeners = new Map<string, () => void>()

  constructor(configuration: Omit<FeedsConfiguration, Defaulted> & Partial<Pick<FeedsConfiguration, Defaulted>>) {
    this.configuration = { ...DEFAULTS, ...configuration }
  }

  private failed(hook: string, documentName: string, error: unknown, message: string): void {
    this.configuration.hookError(hook)
    this.configuration.logger.error({ documentName, err: error }, message)
  }

  async afterLoadDocument({ document, documentName, context }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind === 'feed') {
      this.watchRelayed(documentName, parsed.id, document)
      if (isFeedWriterContext(context)) return
      this.configuration.writer.write(parsed.id, true).catch((error: unknown) => this.failed('feedLoad', documentName, error, 'feed projection on load failed'))
      return
    }
    if (parsed?.kind !== 'comments') return
    const listener = (tr: Y.Transaction) => this.onTransaction(documentName, state, tr)
    const state: DocumentState = {
      subjectId: parsed.id,
      followers: new FollowerCache(),
      queue: Promise.resolve(),
      stop: () => document.off('afterTransaction', listener),
    }
    this.documents.set(documentName, state)
    document.on('afterTransaction', listener)
    try {
      const now = this.configuration.now()
      const recent = recentActivity(document, now - this.configuration.rescanWindowMs)
      this.queue(documentName, state, activitiesOf(document, parsed.id, recent, now, state.followers), false)
    } catch (error) {
      this.failed('feedsRescan', documentName, error, 'rescanning recent activity for feeds failed')
    }
  }

  /**
   * With several instances, two that load a feed at once may each project it before they synced:
   * an update relayed from another instance that leaves an item twice gets the feed written again
   * from storage (under the feed's lock), which leaves each item once.
   */
  private watchRelayed(documentName: string, feedId: string, document: Y.Doc): void {
    const listener = (tr: Y.Transaction) => {
      try {
        if (!isRelayed(tr.origin) || !hasDuplicateItems(document)) return
        this.configuration.writer.write(feedId).catch((error: unknown) => this.failed('feedMend', documentName, error, 'mending a feed document failed'))
      } catch (error) {
        this.failed('feedMend', documentName, error, 'reading a relayed feed update failed')
      }
    }
    document.on('afterTransaction', listener)
    this.feedListeners.set(documentName, () => document.off('afterTransaction', listener))
  }

  /** Records the activities after what the document queued before (those of one transaction side by side). */
  private queue(name: string, state: DocumentState, read: readonly ReadActivity[], live: boolean): void {
    if (read.length === 0) return
    const { storage, fanOut, trendingHalfLifeMs, faults } = this.configuration
    state.queue = state.queue
      .then(async () => {
        if (live) await faults.at('feed-before-record')
        // On a later turn than the write that caused them (see the mentions extension). The
        // activities of one transaction are recorded side by side, so that on SQLite they share
        // one group commit: one at a time, each waited for its own (a 50-comment update made 50).
        await nextTurn()
        const names = new Map<string, Promise<string | null>>()
        const nameOf = (actor: string) => {
          let name = names.get(actor)
          if (!name) names.set(actor, (name = storage.users.get(actor).then((user) => user?.name ?? null)))
          return name
        }
        await Promise.all(
          read.map(async ({ activity, commenter }) => {
            const actor = activity.actorIds[0]
            const actorName = actor === undefined ? null : await nameOf(actor)
            return fanOut.record({ ...activity, actorName }, commenter === null ? undefined : { userId: commenter, halfLifeMs: trendingHalfLifeMs })
          }),
        )
      })
      .catch((error: unknown) => this.failed('feeds', name, error, 'feed activity not recorded'))
  }

  private onTransaction(name: string, state: DocumentState, tr: Y.Transaction): void {
    try {
      // Every transaction may change the followers, a relayed one or a load too.
      state.followers.seen(tr)
      if (tr.origin === LOAD_ORIGIN || isRelayed(tr.origin)) return
      this.queue(name, state, activitiesOf(tr.doc, state.subjectId, readTransaction(tr), this.configuration.now(), state.followers), true)
    } catch (error) {
      // Inside a Yjs transaction's cleanup: never throw into whoever wrote.
      this.failed('feedsTransaction', name, error, 'reading a transaction for feeds failed')
    }
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.feedListeners.get(documentName)?.()
    this.feedListeners.delete(documentName)
    const state = this.documents.get(documentName)
    if (!state) return
    state.stop()
    this.documents.delete(documentName)
    await state.queue
  }

  /** Resolves once every activity read from the document so far is recorded. */
  async settled(documentName: string): Promise<void> {
    await this.documents.get(documentName)?.queue
  }
}
