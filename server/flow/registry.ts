/**
 * Which documents each socket has open, and as which user: the gate meters per user once a
 * socket authenticated for a document, and a socket may hold at most `maxDocuments` documents.
 * Opening one more is refused at authentication (`too_many_documents: …`, which a provider
 * reports as `authenticationFailed`); two opened at the same instant past the cap are caught when
 * established, and the later one is closed with a `parley.error` of the same code.
 */
import type { Extension, connectedPayload, onAuthenticatePayload, onDisconnectPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { ErrorCode, SessionCloseCode } from '../../protocol/index.ts'
import { userIdOf, type ParleyContext } from '../../extensions/context.ts'
import { ConnectionRefused, sendParleyError } from '../../extensions/errors.ts'
import { PRIORITY } from '../../extensions/priorities.ts'

interface SocketEntry {
  /** Per document name: the user, and how many sessions (a provider with `sessionAwareness` may open several). */
  documents: Map<string, { userId: string | undefined; sessions: number }>
}

export interface SocketDocumentsConfiguration {
  maxDocuments: number
  logger: Logger
  /** A document open refused for the cap. */
  onRefused: (() => void) | undefined
}

export class SocketDocuments implements Extension {
  readonly extensionName = 'parley-flow'
  readonly priority = PRIORITY.flow
  private readonly configuration: SocketDocumentsConfiguration
  private readonly bySocketId = new Map<string, SocketEntry>()
  private readonly byWebSocket = new WeakMap<object, SocketEntry>()

  constructor(configuration: SocketDocumentsConfiguration) {
    this.configuration = configuration
  }

  /** The user authenticated on `webSocket` for `documentName`, once the document is established. */
  userOf(webSocket: object, documentName: string): string | undefined {
    return this.byWebSocket.get(webSocket)?.documents.get(documentName)?.userId
  }

  /** Documents `webSocket` has established. */
  documentsOf(webSocket: object): number {
    return this.byWebSocket.get(webSocket)?.documents.size ?? 0
  }

  async onAuthenticate({ socketId, documentName }: onAuthenticatePayload<ParleyContext>): Promise<void> {
    const entry = this.bySocketId.get(socketId)
    if (!entry || entry.documents.has(documentName) || entry.documents.size < this.configuration.maxDocuments) return
    this.configuration.onRefused?.()
    throw new ConnectionRefused({ code: ErrorCode.TooManyDocuments, message: this.refusal() })
  }

  async connected({ socketId, documentName, connection, context }: connectedPayload<ParleyContext>): Promise<void> {
    let entry = this.bySocketId.get(socketId)
    if (!entry) {
      entry = { documents: new Map() }
      this.bySocketId.set(socketId, entry)
      this.byWebSocket.set(connection.webSocket, entry)
    }
    const open = entry.documents.get(documentName)
    if (open) {
      open.sessions++
      return
    }
    entry.documents.set(documentName, { userId: userIdOf(context), sessions: 1 })
    if (entry.documents.size <= this.configuration.maxDocuments) return
    // Opened together with others past the cap: close this one (onDisconnect forgets it).
    this.configuration.onRefused?.()
    this.configuration.logger.info({ socketId, documentName }, 'document closed: too many documents on one socket')
    sendParleyError(connection, documentName, { code: ErrorCode.TooManyDocuments, message: this.refusal() })
    connection.close({ code: SessionCloseCode.Refused, reason: ErrorCode.TooManyDocuments })
  }

  async onDisconnect({ socketId, documentName }: onDisconnectPayload<ParleyContext>): Promise<void> {
    const entry = this.bySocketId.get(socketId)
    const open = entry?.documents.get(documentName)
    if (!entry || !open) return
    if (--open.sessions > 0) return
    entry.documents.delete(documentName)
    if (entry.documents.size === 0) this.bySocketId.delete(socketId)
  }

  private refusal(): string {
    return `a socket may have at most ${this.configuration.maxDocuments} documents open; close one first`
  }
}
