/**
 * The write guard's checker on plain Y.Docs, for unit tests: a "server" document with the
 * `Places` and `ClientRegistry` the guard keeps per document, and replicas that write as one user
 * and hand back their update. `accept` does what the guard does with a verdict: bind the client
 * ids, then apply.
 */
import * as Y from 'yjs'
import { checkUpdate, type GuardVerdict } from '../../core/guard/check.ts'
import { ClientRegistry } from '../../core/guard/clients.ts'
import { Places, type DocumentKind } from '../../core/guard/places.ts'
import type { Role } from '../../protocol/index.ts'

export interface Actor {
  userId: string
  role: Role
}

export class GuardedDoc {
  readonly doc = new Y.Doc()
  readonly clients = new ClientRegistry()
  readonly places: Places
  readonly kind: DocumentKind
  private nextClient = 1000

  constructor(kind: DocumentKind = 'comments') {
    this.kind = kind
    this.places = new Places(kind)
    this.doc.clientID = 1
  }

  check(actor: Actor, update: Uint8Array): GuardVerdict {
    return checkUpdate(
      {
        doc: this.doc,
        kind: this.kind,
        actor,
        places: this.places,
        ownerOf: (client) => this.clients.ownerOf(client),
        isBlocked: (client) => this.clients.isBlocked(client),
      },
      update,
    )
  }

  /** Checks, and applies when allowed (binding the client ids as the guard does); returns the verdict. */
  accept(actor: Actor, update: Uint8Array): GuardVerdict {
    const verdict = this.check(actor, update)
    if (verdict.ok) {
      this.clients.bind(verdict.value.clients, actor.userId)
      Y.applyUpdate(this.doc, update)
    }
    return verdict
  }

  /** A replica holding the server's state, under a new client id. */
  replica(): Y.Doc {
    const doc = new Y.Doc()
    doc.clientID = this.nextClient++
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(this.doc))
    return doc
  }

  /** What `write` changes on a fresh replica, as one update. */
  updateOf(write: (doc: Y.Doc) => void, replica: Y.Doc = this.replica()): Uint8Array {
    const before = Y.encodeStateVector(replica)
    write(replica)
    return Y.encodeStateAsUpdate(replica, before)
  }
}

/** The document's content and state, to show that a check changed nothing. */
export function fingerprint(doc: Y.Doc): string {
  return JSON.stringify({ state: [...Y.decodeStateVector(Y.encodeStateVector(doc))], json: doc.toJSON() })
}
