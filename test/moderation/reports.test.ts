/**
 * Contract additions, "Moderation": reports. One per user and comment (a repeat answers 202 and is
 * not counted); at `PARLEY_REPORT_THRESHOLD` distinct reporters the subject's moderators get one
 * `moderation` notification, also when two instances (PostgreSQL + Redis) receive the reports at
 * the same time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { NotificationRecord } from '../../core/storage/types.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

async function moderationOf(s: TestServer, userId: string): Promise<NotificationRecord[]> {
  return (await s.server.storage.notifications.list(userId, { unreadOnly: false, limit: 100, after: null })).filter((n) => n.kind === 'moderation')
}

async function firstComment(s: TestServer, subjectId: string, author: string): Promise<string> {
  const created = await rest<{ threadId: string; commentId: string }>(s, 'POST', `/api/v1/subjects/${subjectId}/threads`, {
    bearer: await s.token(author, { access: {} }),
    json: { body: 'nasty words' },
  })
  expect(created.status).toBe(201)
  return `/api/v1/subjects/${subjectId}/threads/${created.body.threadId}/comments/${created.body.commentId}`
}

describe('reports', () => {
  let world: World | undefined
  const servers: TestServer[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    await world?.dispose()
    world = undefined
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it('count each reporter once and notify the moderators once at the threshold', async () => {
    world = await startWorld({ reportThreshold: 2 })
    const { s } = world
    await registerSubject(s, 'rep', ['zoe', 'dan'])
    const path = await firstComment(s, 'rep', 'ana')
    // Mia moderates through her token's claim, not membership: the server remembers it when she calls.
    const mia = await s.token('mia', { access: { 'comments/rep': 'moderate' } })
    expect((await rest(s, 'GET', '/api/v1/subjects/rep/threads', { bearer: mia })).status).toBe(200)
    const report = async (userId: string, reason = 'spam') =>
      rest<{ commentId: string }>(s, 'POST', `${path}/report`, { bearer: await s.token(userId, { access: {} }), json: { reason } })

    expect((await report('ben')).status).toBe(202)
    expect((await report('ben', 'really spam')).status).toBe(202)
    expect(await moderationOf(s, 'zoe')).toEqual([])
    expect((await report('dan')).status).toBe(202)
    await waitFor(async () => (await moderationOf(s, 'zoe')).length === 1, 'zoe hears of the reports')
    await waitFor(async () => (await moderationOf(s, 'mia')).length === 1, 'mia (a moderator by her claim) hears of them too')
    expect((await report('cid')).status).toBe(202)

    const [zoes] = await moderationOf(s, 'zoe')
    expect(zoes).toMatchObject({ kind: 'moderation', subjectId: 'rep', actors: ['dan'] })
    // Dan reported it himself: nobody hears their own action.
    expect(await moderationOf(s, 'dan')).toEqual([])
    expect(await moderationOf(s, 'zoe')).toHaveLength(1)
    expect(await moderationOf(s, 'mia')).toHaveLength(1)
    expect(world.eventsOf('comment.reported').map((e) => [e.data.reporterId, e.data.reporters])).toEqual([
      ['ben', 1],
      ['dan', 2],
      ['cid', 3],
    ])
    const log = await s.server.storage.moderation.listLog('rep', { before: null, limit: 10 })
    expect(log.entries.map((e) => [e.action, e.actorId, e.targetUserId, e.reason])).toEqual([
      ['report', 'cid', 'ana', 'spam'],
      ['report', 'dan', 'ana', 'spam'],
      ['report', 'ben', 'ana', 'spam'],
    ])

    const refused = [
      await rest(s, 'POST', `${path}/report`, { bearer: await s.token('zed', { access: {} }), json: { reason: 'x' } }),
      await rest(s, 'POST', `${path.replace(/comments\/.*/, 'comments/nope')}/report`, { bearer: await s.token('ben', { access: {} }), json: { reason: 'x' } }),
      await rest(s, 'POST', `${path}/report`, { bearer: await s.token('ben', { access: {} }), json: {} }),
    ]
    expect(refused.map((a) => [a.status, codeOf(a)])).toEqual([
      [403, 'forbidden'],
      [404, 'not_found'],
      [400, 'invalid_request'],
    ])
  })

  it('notify each moderator exactly once when two instances receive the reports concurrently', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const secret = newSecret()
    const options = { redisUrl: REDIS_URL, databaseUrl: schema.url, secret, apiKey: TEST_API_KEY, reportThreshold: 3 }
    const one = await startServer(options)
    const two = await startServer(options)
    servers.push(one, two)
    await registerSubject(one, 'multi', ['zoe', 'dan'])
    const path = await firstComment(one, 'multi', 'ana')
    const reporters = ['ben', 'cid', 'ex', 'ming', 'ben', 'cid']
    const answers = await Promise.all(
      reporters.map(async (userId, i) => {
        const s = i % 2 === 0 ? one : two
        return rest(s, 'POST', `${path}/report`, { bearer: await s.token(userId, { access: {} }), json: { reason: 'spam' } })
      }),
    )
    expect(answers.map((a) => a.status)).toEqual(reporters.map(() => 202))
    await waitFor(async () => (await moderationOf(one, 'zoe')).length === 1 && (await moderationOf(one, 'dan')).length === 1, 'both moderators hear')
    // Whatever else arrives later, still one each.
    await rest(two, 'POST', `${path}/report`, { bearer: await two.token('zoe', { access: {} }), json: { reason: 'indeed' } })
    for (const moderator of ['zoe', 'dan']) {
      const notes = await moderationOf(two, moderator)
      expect(notes.map((n) => n.activityCount)).toEqual([1])
    }
  })
})
