/**
 * One document session per subject, shared by every handle on it (comments, presence): a single
 * provider per document on the socket. The session closes when its last holder releases it.
 */
import type { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { commentsDocumentName } from '../protocol/index.ts'
import { DocumentSession, type SessionEvents, type TokenSource } from './session.ts'
import type { LocalStore } from './stores/types.ts'

export interface SubjectSessionsOptions {
  socket: HocuspocusProviderWebsocket
  token: TokenSource
  store: LocalStore | undefined
  /** Unacknowledged changes over all sessions changed. */
  onSending: (count: number) => void
  onError: (error: SessionEvents['error']) => void
}

interface Held {
  session: DocumentSession
  holders: number
  off: Array<() => void>
}

export class SubjectSessions {
  private readonly options: SubjectSessionsOptions
  private readonly held = new Map<string, Held>()

  constructor(options: SubjectSessionsOptions) {
    this.options = options
  }

  /** The subject's session, opened on first use; each call needs one {@link release}. */
  acquire(subjectId: string): DocumentSession {
    const open = this.held.get(subjectId)
    if (open) {
      open.holders++
      return open.session
    }
    const { socket, token, store, onSending, onError } = this.options
    const session = new DocumentSession({ documentName: commentsDocumentName(subjectId), socket, token, store })
    this.held.set(subjectId, {
      session,
      holders: 1,
      off: [session.events.on('sending', () => onSending(this.sending)), session.events.on('error', (e) => onError(e))],
    })
    return session
  }

  release(subjectId: string): void {
    const held = this.held.get(subjectId)
    if (!held || --held.holders > 0) return
    for (const off of held.off) off()
    held.session.close()
    this.held.delete(subjectId)
    this.options.onSending(this.sending)
  }

  /** Subjects with an open session. */
  get size(): number {
    return this.held.size
  }

  /** Local changes not yet acknowledged, over all sessions. */
  get sending(): number {
    let sum = 0
    for (const { session } of this.held.values()) sum += session.sending
    return sum
  }
}
