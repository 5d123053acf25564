/**
 * Contract additions, "Moderation": bans and the moderation log. While banned the user's role on
 * the subject is at most `read` (REST and new sockets), open sockets are downgraded at once (not
 * closed), and the ban lifts at its expiry (an injected clock) or when a moderator lifts it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Connection } from '@hocuspocus/server'
import type { ParleyContext } from '../../extensions/context.ts'
import { createThread } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

interface LogPage {
  entries: Array<{
    id: string
    action: string
    actorId: string | null
    targetUserId: string | null
    commentId: string | null
    reason: string | null
    at: number
  }>
  nextCursor: string | null
}

describe('bans', () => {
  let world: World
  let now = 1_800_000_000_000
  beforeEach(async () => {
    now = 1_800_000_000_000
    world = await startWorld({ clock: () => now })
    await registerSubject(world.s, 'room', ['zoe'])
  })
  afterEach(async () => {
    await world.dispose()
  })

  const as = async (userId: string, json?: unknown) => ({ bearer: await world.s.token(userId, { access: {} }), json })
  const sessionsOf = (userId: string): Connection[] =>
    world.s.server.hocuspocus.documents
      .get('comments/room')
      ?.getConnections()
      .filter((c) => (c.context as ParleyContext).user?.id === userId) ?? []
  const post = async (userId: string) => rest(world.s, 'POST', '/api/v1/subjects/room/threads', await as(userId, { body: 'hello' }))

  it('caps the role at read at once, downgrading open sockets without closing them, until the ban expires', async () => {
    const watcher = await world.open('room', 'cid')
    const ben = await world.open('room', 'ben')
    expect(sessionsOf('ben').map((c) => [(c.context as ParleyContext).role, c.readOnly])).toEqual([['comment', false]])

    const banned = await rest<{ downgradedConnections: number; until: number }>(
      world.s,
      'PUT',
      '/api/v1/subjects/room/bans/ben',
      await as('zoe', { reason: 'flooding', until: now + 60_000 }),
    )
    expect(banned.status).toBe(200)
    expect(banned.body).toMatchObject({ downgradedConnections: 1, until: now + 60_000 })
    expect(sessionsOf('ben').map((c) => [(c.context as ParleyContext).role, c.readOnly])).toEqual([['read', true]])
    // A write on the downgraded socket is dropped: the server handles one connection's messages in
    // order, so once the watcher sees ben's awareness sent after it, the write was handled.
    const { threadId } = createThread({ doc: ben.doc, userId: 'ben' }, 'while banned')
    ben.provider.setAwarenessField('user', { id: 'ben', name: 'Ben' })
    await waitFor(
      () => [...(watcher.provider.awareness?.getStates().values() ?? [])].some((state) => (state.user as { id?: string } | undefined)?.id === 'ben'),
      'the watcher sees ben’s awareness',
    )
    expect(world.s.server.hocuspocus.documents.get('comments/room')?.getMap('threads').has(threadId)).toBe(false)
    expect(watcher.doc.getMap('threads').has(threadId)).toBe(false)

    const refused = await post('ben')
    expect([refused.status, codeOf(refused)]).toEqual([403, 'forbidden'])
    const again = await world.open('room', 'ben')
    expect(again.provider.isSynced).toBe(true)
    expect(sessionsOf('ben').map((c) => (c.context as ParleyContext).role)).toEqual(['read', 'read'])
    // Others keep their role.
    expect((await post('ana')).status).toBe(201)

    now += 60_000
    expect((await post('ben')).status).toBe(201)
    await world.open('room', 'ben')
    await waitFor(() => sessionsOf('ben').length === 3, 'ben’s third session')
    expect(sessionsOf('ben').map((c) => (c.context as ParleyContext).role)).toContain('comment')
  })

  it('gives open sessions their role back when the ban expires (the real clock)', async () => {
    const real = await startWorld()
    try {
      await registerSubject(real.s, 'room', ['zoe'])
      await real.open('room', 'ben')
      const sessions = () =>
        real.s.server.hocuspocus.documents
          .get('comments/room')
          ?.getConnections()
          .filter((c) => (c.context as ParleyContext).user?.id === 'ben') ?? []
      const banned = await rest(real.s, 'PUT', '/api/v1/subjects/room/bans/ben', {
        bearer: TEST_API_KEY,
        json: { reason: 'cool off', until: Date.now() + 300 },
      })
      expect(banned.status).toBe(200)
      expect(sessions().map((c) => c.readOnly)).toEqual([true])
      await waitFor(() => sessions().every((c) => !c.readOnly && (c.context as ParleyContext).role === 'comment'), 'ben’s session is restored at expiry')
    } finally {
      await real.dispose()
    }
  })

  it('lifts a ban on DELETE, restoring open sessions, and writes both to the log', async () => {
    await world.open('room', 'ben')
    expect((await rest(world.s, 'PUT', '/api/v1/subjects/room/bans/ben', { bearer: TEST_API_KEY, json: { reason: 'spam' } })).status).toBe(200)
    expect(sessionsOf('ben').map((c) => c.readOnly)).toEqual([true])
    const lifted = await rest<{ removed: boolean }>(world.s, 'DELETE', '/api/v1/subjects/room/bans/ben', await as('zoe', { reason: 'calmer now' }))
    expect(lifted.body).toEqual({ subjectId: 'room', userId: 'ben', removed: true })
    expect(sessionsOf('ben').map((c) => [(c.context as ParleyContext).role, c.readOnly])).toEqual([['comment', false]])
    expect((await post('ben')).status).toBe(201)

    const log = await rest<LogPage>(world.s, 'GET', '/api/v1/subjects/room/moderation-log', { bearer: TEST_API_KEY })
    expect(log.status).toBe(200)
    expect(log.body.entries.map((e) => [e.action, e.actorId, e.targetUserId, e.reason])).toEqual([
      ['unban', 'zoe', 'ben', 'calmer now'],
      ['ban', null, 'ben', 'spam'],
    ])
    expect(log.body.nextCursor).toBeNull()
    expect((await rest(world.s, 'GET', '/api/v1/subjects/room/moderation-log', await as('zoe'))).status).toBe(200)
  })

  it.each(BACKENDS.map((backend) => [backend.name, backend] as const))('pages the log with nextCursor (%s)', async (_name, backend) => {
    const own = await startWorld({}, backend)
    try {
      for (let i = 0; i < 55; i++) {
        await rest(own.s, 'PUT', `/api/v1/subjects/room/bans/u${i}`, { bearer: TEST_API_KEY, json: { reason: `r${i}` } })
      }
      const first = await rest<LogPage>(own.s, 'GET', '/api/v1/subjects/room/moderation-log', { bearer: TEST_API_KEY })
      expect(first.body.entries).toHaveLength(50)
      expect(first.body.entries[0]).toMatchObject({ action: 'ban', actorId: null, targetUserId: 'u54', commentId: null, reason: 'r54' })
      const second = await rest<LogPage>(own.s, 'GET', `/api/v1/subjects/room/moderation-log?cursor=${first.body.nextCursor}`, { bearer: TEST_API_KEY })
      expect(second.body.entries.map((e) => e.reason)).toEqual(['r4', 'r3', 'r2', 'r1', 'r0'])
      expect(second.body.nextCursor).toBeNull()
      const bad = await rest(own.s, 'GET', '/api/v1/subjects/room/moderation-log?cursor=abc', { bearer: TEST_API_KEY })
      expect([bad.status, codeOf(bad)]).toEqual([400, 'invalid_request'])
    } finally {
      await own.dispose()
    }
  })

  it('refuses bans and the log to anyone without moderate, and an expiry in the past', async () => {
    const answers = [
      await rest(world.s, 'PUT', '/api/v1/subjects/room/bans/ana', await as('ben', { reason: 'x' })),
      await rest(world.s, 'DELETE', '/api/v1/subjects/room/bans/ana', await as('ben')),
      await rest(world.s, 'GET', '/api/v1/subjects/room/moderation-log', await as('ben')),
      await rest(world.s, 'PUT', '/api/v1/subjects/room/bans/ana', await as('zoe', { reason: 'x', until: now - 1 })),
      await rest(world.s, 'PUT', '/api/v1/subjects/room/bans/ana', await as('zoe', {})),
    ]
    expect(answers.map((a) => [a.status, codeOf(a)])).toEqual([
      [403, 'forbidden'],
      [403, 'forbidden'],
      [403, 'forbidden'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
    ])
  })
})
