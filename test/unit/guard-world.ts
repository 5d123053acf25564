/**
 * The document the write-guard unit tests start from: honest users' writes through the checker,
 * and the places in it that the tests aim at.
 */
import { expect } from 'vitest'
import type * as Y from 'yjs'
import { createThread, deleteComment, react, reply, setFollowing, setSubscription, threadsMap, type WriteContext } from '../../protocol/index.ts'
import { GuardedDoc, type Actor } from './guard-fixture.ts'

export const T = 1_700_000_000_000
export const ana: Actor = { userId: 'ana', role: 'comment' }
export const ben: Actor = { userId: 'ben', role: 'comment' }
export const mallory: Actor = { userId: 'mallory', role: 'comment' }
export const mod: Actor = { userId: 'mod', role: 'moderate' }
export const reader: Actor = { userId: 'rita', role: 'read' }

export interface Targets {
  thread: Y.Map<unknown>
  anasComment: Y.Map<unknown>
  ownDeleted: Y.Map<unknown>
}

export const comments = (thread: Y.Map<unknown>) => thread.get('comments') as Y.Array<Y.Map<unknown>>

export function docOf(type: { doc: Y.Doc | null }): Y.Doc {
  if (!type.doc) throw new Error('not integrated')
  return type.doc
}

/** The document every attack starts from, written by honest users through the checker. */
export function setUp(): { server: GuardedDoc; ownDeletedId: string } {
  const server = new GuardedDoc()
  let n = 0
  const ids = ['t1', 'c1']
  const as = (doc: Y.Doc, userId: string): WriteContext => ({ doc, userId, now: () => T + ++n, newId: () => ids.shift() ?? `id${++n}` })
  const write = (actor: Actor, change: (ctx: WriteContext) => void) => {
    const verdict = server.accept(
      actor,
      server.updateOf((doc) => change(as(doc, actor.userId))),
    )
    expect(verdict, `setup write by ${actor.userId}`).toMatchObject({ ok: true })
  }
  write(ana, (ctx) => createThread(ctx, 'Ana’s first words', { anchor: 'p1' }))
  write(ana, (ctx) => react(ctx, 't1', 'c1', '👍'))
  write(ana, (ctx) => setSubscription(ctx, 't1', true))
  write(ana, (ctx) => setFollowing(ctx, true))
  let ownDeletedId = ''
  write(mallory, (ctx) => {
    ownDeletedId = reply(ctx, 't1', 'soon deleted').commentId
    deleteComment(ctx, 't1', ownDeletedId)
  })
  return { server, ownDeletedId }
}

export function targetsIn(doc: Y.Doc, ownDeletedId: string): Targets {
  const thread = threadsMap(doc).get('t1')!
  const all = comments(thread).toArray()
  return { thread, anasComment: all[0]!, ownDeleted: all.find((c) => c.get('id') === ownDeletedId)! }
}
