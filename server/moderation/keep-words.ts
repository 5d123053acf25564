/**
 * Keeps the words of comments hidden through a socket (a moderator's client setting `moderation`)
 * in storage, as the REST hide does, so that unhide can restore them. It watches each loaded
 * comments document: when a comment becomes hidden, its words are read before they are gone, from
 * the body if the client left them (the server empties it a moment later,
 * core/guard/deleted-bodies.ts), or from the text the same transaction deleted (observers run
 * before Yjs collects deleted content). A hide made over REST is kept by the route already; keeping
 * it again stores the same words.
 */
import type { Extension, afterLoadDocumentPayload, afterUnloadDocumentPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CommentField, MENTION_ATTRIBUTE, parseDocumentName, readModeration, THREADS, type BodyRun } from '../../protocol/index.ts'
import type { Storage } from '../../core/storage/types.ts'

/** The body's words including those `deletedNow` (by the transaction being observed), as runs. */
export function wordsBefore(text: Y.Text, deletedNow: (item: Y.Item) => boolean): BodyRun[] {
  const runs: BodyRun[] = []
  let mention: string | null = null
  for (let item = text._start; item !== null; item = item.right) {
    const live = !item.deleted || deletedNow(item)
    if (item.content instanceof Y.ContentFormat && item.content.key === MENTION_ATTRIBUTE && live) {
      mention = typeof item.content.value === 'string' ? item.content.value : null
    } else if (item.content instanceof Y.ContentString && live) {
      const last = runs.at(-1)
      const sameRun = last !== undefined && ('mention' in last ? last.mention : null) === mention
      if (sameRun) last.text += item.content.str
      else runs.push(mention === null ? { text: item.content.str } : { text: item.content.str, mention })
    }
  }
  return runs
}

export interface KeepHiddenWordsOptions {
  storage: Storage
  logger: Logger
}

export class KeepHiddenWords implements Extension {
  private readonly stops = new Map<string, () => void>()
  private readonly options: KeepHiddenWordsOptions

  constructor(options: KeepHiddenWordsOptions) {
    this.options = options
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'comments') return
    const threads = document.getMap(THREADS)
    const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
      // Items the transaction deleted still hold their content while observers run.
      const deletedNow = (item: Y.Item) => events[0]?.deletes(item) ?? false
      for (const event of events) {
        if (!(event instanceof Y.YMapEvent) || !event.keysChanged.has(CommentField.moderation)) continue
        const comment = event.target as Y.Map<unknown>
        const moderation = readModeration(comment.get(CommentField.moderation))
        const body = comment.get(CommentField.body)
        const commentId = comment.get(CommentField.id)
        const authorId = comment.get(CommentField.authorId)
        if (!moderation || !(body instanceof Y.Text) || typeof commentId !== 'string' || typeof authorId !== 'string') continue
        const runs = wordsBefore(body, deletedNow)
        if (runs.length === 0) continue
        this.options.storage.moderation
          .putHidden({ subjectId: parsed.id, commentId, authorId, runs, ...moderation })
          .catch((error: unknown) => this.options.logger.error({ err: error, documentName, commentId }, 'the words of a hidden comment could not be kept'))
      }
    }
    threads.observeDeep(observer)
    this.stops.set(documentName, () => threads.unobserveDeep(observer))
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.stops.get(documentName)?.()
    this.stops.delete(documentName)
  }
}
