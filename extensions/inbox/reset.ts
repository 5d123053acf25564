/**
 * Inbox reset: every notification the projection trims leaves a Yjs tombstone in `inbox/<userId>`,
 * so the stored document would grow for ever. When an inbox is about to load and its stored size
 * passes {@link INBOX_RESET_BYTES}, it is rebuilt first: a fresh Y.Doc holding only the latest
 * notifications, projected from storage (the source of truth) as a normal projection would, replaces
 * the stored snapshot and log. It runs before durability loads the document, so no connection on
 * this instance holds the old state; clients that still hold it are refused by the write guard.
 * With several instances a {@link InboxResetCoordinator} runs it one instance at a time, and not
 * while another instance holds the document (server/scaling/inbox-reset-lock.ts).
 */
import type { Extension, onLoadDocumentPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { parseDocumentName } from '../../protocol/index.ts'
import { project } from '../../core/notifications/inbox-document.ts'
import type { NotificationRecord, Storage } from '../../core/storage/types.ts'
import { PRIORITY } from '../priorities.ts'

/** Stored bytes (snapshot + log) past which an inbox document is rebuilt when it next loads. */
export const INBOX_RESET_BYTES = 64 * 1024

/** Several instances: who may reset an inbox now. */
export interface InboxResetCoordinator {
  /**
   * Runs `reset` while no other instance may reset or load the document, unless another instance
   * has it loaded (then resolves false without running it); false too when that cannot be told.
   */
  exclusive(documentName: string, reset: () => Promise<void>): Promise<boolean>
}

export interface InboxResetConfiguration {
  storage: Storage
  logger: Logger
  /** Notifications the rebuilt document holds (the projector's limit). */
  limit: number
  resetBytes: number
  hookError(hook: string): void
  /** With several instances; without one, this instance alone decides. */
  coordinator?: InboxResetCoordinator | undefined
}

/** The state of a fresh inbox document holding exactly `latest`, as the projection writes it. */
export function freshInboxState(latest: readonly NotificationRecord[]): Uint8Array {
  const doc = new Y.Doc()
  try {
    doc.transact(() => project(doc, latest))
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

export class InboxReset implements Extension {
  readonly extensionName = 'parley-inbox-reset'
  readonly priority = PRIORITY.inboxReset
  private readonly configuration: InboxResetConfiguration

  constructor(configuration: InboxResetConfiguration) {
    this.configuration = configuration
  }

  async onLoadDocument({ documentName }: onLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'inbox') return
    const { storage, logger, limit, resetBytes, hookError, coordinator } = this.configuration
    const reset = async () => {
      const bytes = await storage.documents.storedBytes(documentName)
      if (bytes <= resetBytes) return
      const latest = await storage.notifications.list(parsed.id, { unreadOnly: false, limit, after: null })
      const state = freshInboxState(latest)
      await storage.documents.replace(documentName, state)
      logger.info({ documentName, bytes, resetBytes: state.byteLength }, 'inbox document reset')
    }
    try {
      if (!coordinator) return await reset()
      if (!(await coordinator.exclusive(documentName, reset))) logger.debug({ documentName }, 'inbox reset skipped: the inbox is open on another instance')
    } catch (error) {
      // Not fatal: the document loads as stored, and the next load tries again.
      hookError('inboxReset')
      logger.error({ documentName, err: error }, 'inbox reset failed; loading the document as stored')
    }
  }
}
