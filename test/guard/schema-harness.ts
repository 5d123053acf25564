/**
 * In-process harness for the guard's schema tests: a server Y.Doc, the guard's client-id owners,
 * and replicas whose updates go through `checkUpdate` (applied when they pass).
 */
import { expect } from 'vitest'
import * as Y from 'yjs'
import { checkUpdate, type GuardVerdict } from '../../core/guard/check.ts'
import { Places, type DocumentKind } from '../../core/guard/places.ts'
import { createThread, reply, threadsMap, type Role } from '../../protocol/index.ts'

export const MINUTE = 60_000

/** A server document and the guard's view of it: who owns which client id. */
export class Server {
  readonly doc = new Y.Doc()
  readonly places: Places
  readonly kind: DocumentKind
  private readonly owners = new Map<number, string>()

  constructor(kind: DocumentKind = 'comments') {
    this.kind = kind
    this.places = new Places(kind)
  }

  /** A replica of the server's document, as a client would hold it after syncing. */
  replica(): Y.Doc {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(this.doc))
    return doc
  }

  /** Checks what `write` does on a fresh replica, as `userId`; applies it when it passes. */
  attempt(userId: string, write: (doc: Y.Doc) => void, role: Role = 'comment'): GuardVerdict {
    const replica = this.replica()
    const before = Y.encodeStateVector(replica)
    write(replica)
    return this.check(userId, Y.encodeStateAsUpdate(replica, before), role)
  }

  check(userId: string, update: Uint8Array, role: Role = 'comment'): GuardVerdict {
    const verdict = checkUpdate(
      { doc: this.doc, kind: this.kind, actor: { userId, role }, places: this.places, ownerOf: (c) => this.owners.get(c), isBlocked: () => false },
      update,
    )
    if (verdict.ok) {
      for (const client of verdict.value.clients) this.owners.set(client, userId)
      Y.applyUpdate(this.doc, update)
    }
    return verdict
  }

  /** Writes as the server itself would (no guard): projections, or documents from before the guard. */
  direct(write: (doc: Y.Doc) => void): void {
    write(this.doc)
  }
}

export function ok(verdict: GuardVerdict): void {
  expect(verdict).toMatchObject({ ok: true })
}

export function refused(verdict: GuardVerdict, reason: RegExp, code = 'write_rejected'): void {
  expect(verdict).toMatchObject({ ok: false, error: { code } })
  if (!verdict.ok) expect(verdict.error.reason).toMatch(reason)
}

/** Ids handed out in order (then random), for writers that create several. */
export const sequence =
  (...ids: string[]) =>
  () =>
    ids.shift() ?? globalThis.crypto.randomUUID()

/** Ana's thread `t1` with her first comment `c1`, and Ben's reply `b1`. */
export function withThread(): Server {
  const server = new Server()
  ok(server.attempt('ana', (doc) => createThread({ doc, userId: 'ana', newId: sequence('t1', 'c1') }, 'first words', { anchor: 'p3' })))
  ok(server.attempt('ben', (doc) => reply({ doc, userId: 'ben', newId: () => 'b1' }, 't1', 'a reply', 'c1')))
  return server
}

export const thread = (doc: Y.Doc, id = 't1') => threadsMap(doc).get(id)!
export const commentsOf = (doc: Y.Doc, id = 't1') => thread(doc, id).get('comments') as Y.Array<Y.Map<unknown>>

/** A comment map with every required field, for forged inserts. */
export function comment(id: string, authorId: string, extra: Record<string, unknown> = {}): Y.Map<unknown> {
  return new Y.Map<unknown>(Object.entries({ id, authorId, createdAt: Date.now(), body: new Y.Text('words'), reactions: new Y.Map(), ...extra }))
}

export function newThreadMap(id: string, createdBy: string, first: Y.Map<unknown>[], extra: Record<string, unknown> = {}): Y.Map<unknown> {
  const comments = new Y.Array<Y.Map<unknown>>()
  comments.push(first)
  return new Y.Map<unknown>(
    Object.entries({ id, createdBy, createdAt: Date.now(), comments, subscribers: new Y.Map(), readBy: new Y.Map(), metadata: new Y.Map(), ...extra }),
  )
}
