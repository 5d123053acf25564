/**
 * Inbox documents: when one loads for a client (or a client opens one that deliveries skipped
 * while no client had it open), its notifications are projected from storage
 * (storage is the source of truth); `readAt` and `archivedAt` the owner sets in the document
 * (the write guard allows nothing else) are written to storage, so REST sees them too.
 */
import { type Extension, type afterLoadDocumentPayload, type afterUnloadDocumentPayload, type connectedPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type * as Y from 'yjs'
import { parseDocumentName } from '../../protocol/index.ts'
import { marksIn } from '../../core/notifications/inbox-document.ts'
import type { InboxProjector } from '../../core/notifications/projector.ts'
import { isFromConnection, isProjectorContext } from '../../core/origins.ts'
import type { Storage } from '../../core/storage/types.ts'
import { PRIORITY } from '../priorities.ts'

export interface InboxConfiguration {
  storage: Storage
  projector: InboxProjector
  logger: Logger
  hookError(hook: string): void
}

export class Inbox implements Extension {
  readonly extensionName = 'parley-inbox'
  readonly priority = PRIORITY.notifications
  private readonly configuration: InboxConfiguration
  private readonly stops = new Map<string, () => void>()

  constructor(configuration: InboxConfiguration) {
    this.configuration = configuration
  }

  async afterLoadDocument({ document, documentName, context }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'inbox') return
    const userId = parsed.id
    const { storage, projector, logger, hookError } = this.configuration
    const listener = (tr: Y.Transaction) => {
      if (!isFromConnection(tr.origin)) return
      for (const mark of marksIn(tr)) {
        storage.notifications.setMarks(userId, mark.id, mark).catch((error: unknown) => {
          hookError('inboxMarks')
          logger.error({ documentName, err: error }, 'a mark from the inbox document was not stored')
        })
      }
    }
    document.on('afterTransaction', listener)
    this.stops.set(documentName, () => document.off('afterTransaction', listener))
    // The projector's own connection is about to project; a client's load brings the document up to date.
    if (isProjectorContext(context)) return
    projector.sync(userId).catch((error: unknown) => {
      hookError('inboxSync')
      logger.error({ documentName, err: error }, 'inbox projection on load failed; the outbox keeps trying')
    })
  }

  /** A client opening an inbox that stayed loaded while deliveries skipped it gets it brought up to date. */
  async connected({ documentName }: connectedPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'inbox') return
    const { projector, logger, hookError } = this.configuration
    projector.syncIfSkipped(parsed.id).catch((error: unknown) => {
      hookError('inboxSync')
      logger.error({ documentName, err: error }, 'inbox projection on connect failed; the outbox keeps trying')
    })
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.stops.get(documentName)?.()
    this.stops.delete(documentName)
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind === 'inbox') this.configuration.projector.unloaded(parsed.id)
  }
}
