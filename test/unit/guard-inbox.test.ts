/**
 * The write guard's checker (`checkUpdate`) on an `inbox/<userId>` document, in process: its owner
 * sets only `readAt`, `seenAt` and `archivedAt` of notifications the server wrote.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { GuardedDoc, type Actor } from './guard-fixture.ts'

const T = 1_700_000_000_000

describe('PROTOCOL §Inbox document as implemented: the owner sets only readAt, seenAt and archivedAt', () => {
  function inboxWithOne(): GuardedDoc {
    const server = new GuardedDoc('inbox')
    // The server's own projection, applied directly (the guard checks clients, not the server).
    server.doc.transact(() => {
      const n = new Y.Map<unknown>()
      for (const [k, v] of Object.entries({
        id: 'n1',
        kind: 'mention',
        priority: 'high',
        subjectId: 's',
        threadId: 't',
        commentId: 'c',
        actors: ['ben'],
        activityCount: 1,
        preview: 'hi',
        createdAt: T,
        notifiedAt: T,
        readAt: null,
        seenAt: null,
        archivedAt: null,
      }))
        n.set(k, v)
      server.doc.getMap('notifications').set('n1', n)
    })
    return server
  }
  const owner: Actor = { userId: 'ana', role: 'read' }
  const notification = (doc: Y.Doc) => doc.getMap('notifications').get('n1') as Y.Map<unknown>

  it('accepts readAt, seenAt and archivedAt (a time, or null)', () => {
    const server = inboxWithOne()
    expect(
      server.accept(
        owner,
        server.updateOf((doc) => notification(doc).set('seenAt', T + 4)),
      ),
    ).toMatchObject({ ok: true })
    expect(
      server.accept(
        owner,
        server.updateOf((doc) => notification(doc).set('readAt', T + 5)),
      ),
    ).toMatchObject({ ok: true })
    expect(
      server.accept(
        owner,
        server.updateOf((doc) => notification(doc).set('archivedAt', T + 6)),
      ),
    ).toMatchObject({ ok: true })
    expect(
      server.accept(
        owner,
        server.updateOf((doc) => notification(doc).set('archivedAt', null)),
      ),
    ).toMatchObject({ ok: true })
  })

  it.each<[string, (doc: Y.Doc) => void]>([
    ['another field', (doc) => notification(doc).set('preview', 'forged')],
    ['a notification created', (doc) => doc.getMap('notifications').set('n2', new Y.Map([['id', 'n2']]))],
    ['a notification removed', (doc) => doc.getMap('notifications').delete('n1')],
    ['readAt that is not a time', (doc) => notification(doc).set('readAt', 'now')],
    ['readAt before the notification was created', (doc) => notification(doc).set('readAt', T - 1)],
    ['seenAt that is not a time', (doc) => notification(doc).set('seenAt', 'now')],
    ['seenAt before the notification was created', (doc) => notification(doc).set('seenAt', T - 1)],
    ['a root outside the schema', (doc) => doc.getMap('threads').set('x', 1)],
  ])('refuses %s', (_name, write) => {
    const server = inboxWithOne()
    expect(server.check(owner, server.updateOf(write))).toMatchObject({ ok: false, error: { code: 'write_rejected' } })
  })
})
