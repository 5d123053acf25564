/**
 * Contract additions, "SDK": `client.comments(subjectId)` gains `hide` / `unhide` for moderators and
 * `report` for users, over the server's REST API, with refusals as `ParleyError` codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { ParleyError } from '../../protocol/index.ts'
import { httpBaseOf } from '../../client/http.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

describe('SDK moderation', () => {
  let world: World
  const clients: ParleyClient[] = []
  const client = async (userId: string) => {
    const c = await sdkClient(world.s, userId, { token: await world.s.token(userId, { access: {} }) })
    clients.push(c)
    return c
  }
  beforeAll(async () => {
    world = await startWorld({ reportThreshold: 1 })
    await registerSubject(world.s, 'sdk', ['zoe'])
  })
  afterAll(async () => {
    for (const c of clients) await c.close()
    await world.dispose()
  })

  it('derives the REST URL from the WebSocket URL', () => {
    expect(httpBaseOf('ws://127.0.0.1:1234')).toBe('http://127.0.0.1:1234')
    expect(httpBaseOf('wss://parley.example.com/')).toBe('https://parley.example.com')
  })

  it('hides, unhides and reports, and refuses a non-moderator’s hide with forbidden', async () => {
    const ana = await openSynced(await client('ana'), 'sdk')
    const zoe = await openSynced(await client('zoe'), 'sdk')
    const ben = await openSynced(await client('ben'), 'sdk')
    const { threadId, commentId } = ana.createThread('rude words')
    await waitAcknowledged(ana)
    await waitFor(() => zoe.thread(threadId)?.comments[0]?.text === 'rude words', 'zoe sees the comment')

    await ben.report(threadId, commentId, 'rude')
    await waitFor(async () => (await world.notifications('zoe')).some((n) => n.kind === 'moderation'), 'zoe hears of the report')

    const refused = await ben.hide(threadId, commentId).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ParleyError)
    expect((refused as ParleyError).code).toBe('forbidden')

    expect(await zoe.hide(threadId, commentId, 'rude')).toMatchObject({ hiddenBy: 'zoe', reason: 'rude' })
    await waitFor(() => ana.thread(threadId)?.comments[0]?.moderation?.hiddenBy === 'zoe', 'ana sees the hide')
    expect(ana.thread(threadId)?.comments[0]?.text).toBe('')
    await zoe.unhide(threadId, commentId)
    await waitFor(() => ana.thread(threadId)?.comments[0]?.text === 'rude words', 'ana sees the words back')
    expect(ana.thread(threadId)?.comments[0]?.moderation).toBeNull()
  })
})
