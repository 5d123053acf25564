/**
 * `client.presence(subjectId)` between real SDK clients: typing appears for others and clears by
 * itself, idle and active transitions, change events, departures, and one provider per document
 * shared with `comments(subjectId)`. The server's window is shortened to 50 ms, and the SDK's
 * idle and typing timeouts are scaled down through the handle's options, to keep tests short.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import type { PresentUser } from '../../client/presence.ts'
import { TYPING_STALE_MS } from '../../protocol/index.ts'
import { AwarenessPeer, presenceState } from '../helpers/awareness.ts'
import { sdkClient } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SUBJECT = 'presence-sdk'

function ids(users: PresentUser[]): string[] {
  return users.map((u) => u.id)
}

describe('SDK presence', () => {
  let s: TestServer | undefined
  const clients: ParleyClient[] = []
  const peers: AwarenessPeer[] = []
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close()
    for (const c of clients.splice(0)) await c.close()
    await s?.dispose()
    s = undefined
  })

  async function client(userId: string, name?: string): Promise<ParleyClient> {
    const c = await sdkClient(s as TestServer, userId, name ? { userName: name } : {})
    clients.push(c)
    return c
  }

  it('shows typing to others and clears it by itself', async () => {
    s = await startServer({ presence: { windowMs: 50 } })
    const typingClearMs = 600
    const ana = (await client('ana', 'Ana')).presence(SUBJECT, { typingClearMs })
    const ben = (await client('ben')).presence(SUBJECT)
    await waitFor(() => ids(ben.others()).includes('ana'), 'ben sees ana')
    expect(ben.others()[0]).toMatchObject({ id: 'ana', name: 'Ana', status: 'active', typing: null, self: false })
    ana.setTyping('thread-1')
    await waitFor(() => ids(ben.typingIn('thread-1')).includes('ana'), 'ben sees ana typing in thread-1')
    const typingSeen = Date.now()
    expect(ben.typingIn(null)).toEqual([])
    // No further call: the typing clears itself after typingClearMs.
    await waitFor(() => ben.typingIn('thread-1').length === 0, 'ana’s typing clears by itself')
    expect(Date.now() - typingSeen).toBeGreaterThanOrEqual(typingClearMs - 200)
    expect(ana.typing).toBeNull()
    // Typing in a new thread, and stopping on purpose.
    ana.setTyping(null)
    ana.setTyping(null)
    ana.setTyping(null)
    ana.setTyping('thread-2')
    await waitFor(() => ids(ben.typingIn('thread-2')).includes('ana'), 'typing in thread-2')
    ana.setTyping(null)
    await waitFor(() => ben.others()[0]?.typing === null, 'stopped on purpose')
  })

  it('ignores typing older than 6 s from a client that never clears it', async () => {
    s = await startServer({ presence: { windowMs: 50 } })
    const ben = (await client('ben')).presence(SUBJECT)
    const changes: PresentUser[][] = []
    ben.on('change', (users) => changes.push(users))
    const stuck = await AwarenessPeer.connect(s.server.webSocketUrl, `comments/${SUBJECT}`, await s.token('stuck'))
    peers.push(stuck)
    stuck.send({ clientId: 5001, clock: 1, state: presenceState('stuck', { typing: { threadId: 'thread-1', at: Date.now() } }) })
    await waitFor(() => ids(ben.typingIn('thread-1')).includes('stuck'), 'ben sees the typing')
    const seen = Date.now()
    await waitFor(() => ben.typingIn('thread-1').length === 0, 'the typing turns stale', TYPING_STALE_MS + 2_000)
    expect(Date.now() - seen).toBeGreaterThanOrEqual(TYPING_STALE_MS - 500)
    // Still present, no longer typing, and an event said so.
    expect(ids(ben.others())).toEqual(['stuck'])
    await waitFor(() => changes.at(-1)?.find((u) => u.id === 'stuck')?.typing === null, 'a change event for the stale typing')
  })

  it('turns idle after the configured time without input, and active again on input', async () => {
    s = await startServer({ presence: { windowMs: 50 } })
    const ana = (await client('ana')).presence(SUBJECT, { idleAfterMs: 400 })
    const ben = (await client('ben')).presence(SUBJECT)
    const statuses: string[] = []
    ben.on('change', (users) => {
      const status = users.find((u) => u.id === 'ana')?.status
      if (status && statuses.at(-1) !== status) statuses.push(status)
    })
    await waitFor(() => ben.others()[0]?.status === 'active', 'ana is active')
    const start = Date.now()
    await waitFor(() => ben.others()[0]?.status === 'idle', 'ana turns idle')
    expect(Date.now() - start).toBeGreaterThanOrEqual(200)
    expect(ana.status).toBe('idle')
    ana.markActive()
    await waitFor(() => ben.others()[0]?.status === 'active', 'ana is active again')
    // Typing is input too.
    await waitFor(() => ben.others()[0]?.status === 'idle', 'idle again')
    ana.setTyping('thread-1')
    await waitFor(() => ben.others()[0]?.status === 'active' && ben.others()[0]?.typing?.threadId === 'thread-1', 'typing makes ana active')
    // Change events come once per tick, after the state: wait for the last one.
    await waitFor(() => statuses.length === 5, 'the change event of the last transition')
    expect(statuses).toEqual(['active', 'idle', 'active', 'idle', 'active'])
  })

  it('removes a user who closes, goes offline or leaves presence', async () => {
    s = await startServer({ presence: { windowMs: 50 } })
    const ben = (await client('ben')).presence(SUBJECT)
    const anaClient = await client('ana')
    const ana = anaClient.presence(SUBJECT)
    const comments = anaClient.comments(SUBJECT)
    await waitFor(() => ids(ben.others()).includes('ana'), 'ben sees ana')
    // One provider for the document, whatever handles are open.
    expect(anaClient.diagnostics().attachedDocuments).toBe(1)
    // Closing presence with comments still open: ana leaves presence, comments stay usable.
    ana.close()
    await waitFor(() => !ids(ben.others()).includes('ana'), 'ana left presence')
    expect(anaClient.openSubjects).toBe(1)
    await comments.whenSynced()
    comments.createThread('still here')
    await waitFor(() => comments.sending === 0, 'the comment is acknowledged')
    // Presence again on the same session, then the socket goes down.
    anaClient.presence(SUBJECT)
    await waitFor(() => ids(ben.others()).includes('ana'), 'ana is back')
    expect(anaClient.diagnostics().attachedDocuments).toBe(1)
    anaClient.disconnect()
    await waitFor(() => !ids(ben.others()).includes('ana'), 'ana went offline')
    anaClient.connect()
    await waitFor(() => ids(ben.others()).includes('ana'), 'ana reconnected')
    await anaClient.close()
    await waitFor(() => !ids(ben.others()).includes('ana'), 'ana closed the client')
  })

  it('works without comments and merges a user’s tabs', async () => {
    s = await startServer({ presence: { windowMs: 50 } })
    const tab1 = (await client('ana')).presence(SUBJECT, { idleAfterMs: 300 })
    const tab2 = (await client('ana')).presence(SUBJECT)
    const ben = (await client('ben')).presence(SUBJECT)
    await waitFor(() => ben.others()[0]?.clients === 2, 'ben sees both of ana’s tabs')
    // One tab idle, the other active: ana is active.
    await waitFor(() => tab1.status === 'idle', 'tab 1 idles')
    await waitFor(() => ben.others().length === 1 && ben.others()[0]?.status === 'active', 'ana is active')
    tab2.setTyping('thread-9')
    await waitFor(() => ben.others()[0]?.typing?.threadId === 'thread-9', 'typing from either tab shows')
    expect(tab1.users().find((u) => u.id === 'ana')).toMatchObject({ self: true, clients: 2 })
  })
})
