/**
 * Exactly once across kill -9. The server kills itself (PARLEY_FAULT, test-only) at a named point:
 * right after a mention was acknowledged and before it was detected, or after the notification
 * and its outbox row were committed and before the inbox was projected. After a restart the
 * recipient's inbox shows the notification exactly once: a mention, a `thread` notification
 * to a follower, a `reaction` to a comment's author, and a moderator's hide to the author.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CommentField, createThread, findComment, getThread, react, readInbox, setFollowing } from '../../protocol/index.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { rebuild } from '../helpers/comments.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

describe('notifications across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  /** Ben starts a thread on a server that stops cleanly: the document is detected and marked. */
  async function bensThread(env: Record<string, string>, secret: string): Promise<{ threadId: string; commentId: string }> {
    const setup = await startChild(env)
    children.push(setup)
    await register(setup.httpUrl)
    const ben = await connectSynced(setup.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ben'))
    const thread = createThread({ doc: ben.doc, userId: 'ben' }, 'my photo')
    await acknowledged(ben)
    ben.destroy()
    setup.process.kill('SIGTERM')
    expect(await setup.exited).toBe(0)
    return thread
  }

  async function register(httpUrl: string) {
    const registered = await fetch(`${httpUrl}/api/v1/subjects/crash`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ defaultRole: 'comment' }),
    })
    expect(registered.status).toBe(200)
  }

  /** `kind`: what ben hears: a mention of him, (as a follower of the subject) a new thread, or ana's reaction to his comment. */
  async function crashAt(fault: string, kind: 'mention' | 'thread' | 'reaction' | 'moderation' = 'mention') {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const secret = newSecret()
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, PARLEY_API_KEY: TEST_API_KEY }
    const bens = kind === 'reaction' || kind === 'moderation' ? await bensThread(env, secret) : null
    const first = await startChild({ ...env, PARLEY_FAULT: fault })
    children.push(first)
    await register(first.httpUrl)
    // Ana moderates the subject (her token says so); as a moderator she hides ben's comment.
    const ana = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana', { access: { 'comments/crash': 'moderate' } }))
    clients.push(ana)
    if (bens && kind === 'moderation') {
      const comment = findComment(getThread(ana.doc, bens.threadId), bens.commentId)
      ana.doc.transact(() => comment.set(CommentField.moderation, { hiddenBy: 'ana', reason: 'spam', at: Date.now() }))
    } else if (bens) {
      react({ doc: ana.doc, userId: 'ana' }, bens.threadId, bens.commentId, '🌊')
    } else if (kind === 'thread') {
      // Following notifies nobody: the process lives on until the thread starts.
      const ben = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ben'))
      clients.push(ben)
      setFollowing({ doc: ben.doc, userId: 'ben' }, true)
      await acknowledged(ben)
      await waitFor(() => ana.doc.getMap('followers').get('ben') === 'follower', 'ana sees ben follow')
      createThread({ doc: ana.doc, userId: 'ana' }, 'a new topic')
    } else {
      createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'urgent: ' }, { text: '@Ben', mention: 'ben' }])
    }
    // The acknowledgement arrives, then the process dies at the fault point.
    await acknowledged(ana)
    expect(await first.exited).toBeNull()
    ana.destroy()
    return { dataDir, secret, env }
  }

  async function inboxAfterRestart(env: Record<string, string>, secret: string, kind: 'mention' | 'thread' | 'reaction' | 'moderation' = 'mention') {
    const second = await startChild(env)
    children.push(second)
    const inbox = await connectSynced(second.webSocketUrl, 'inbox/ben', await tokenFor(secret, 'ben'))
    clients.push(inbox)
    await waitFor(() => readInbox(inbox.doc).length === 1, `the ${kind} in ben’s inbox after the restart`, 15_000)
    // The author comes back: the document loads and is rescanned once more; nothing repeats.
    const ana = await connectSynced(second.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
    clients.push(ana)
    const listed = async () => {
      const answer = await fetch(`${second.httpUrl}/api/v1/notifications`, { headers: { authorization: `Bearer ${await tokenFor(secret, 'ben')}` } })
      return ((await answer.json()) as { notifications: Array<{ kind: string }> }).notifications
    }
    expect(await listed()).toMatchObject([{ kind }])
    return { inbox, listed }
  }

  function storedState(dataDir: string) {
    const storage = new SqliteStorage(path.join(dataDir, 'parley.db'))
    return {
      storage,
      async inboxEntries() {
        return readInbox(rebuild(await storage.documents.load('inbox/ben'))).length
      },
    }
  }

  it('between acknowledgement and detection: the restart rescans the document and notifies once', async () => {
    const { dataDir, secret, env } = await crashAt('before-detection')
    const dead = storedState(dataDir)
    expect(await dead.storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).toEqual([])
    expect(await dead.storage.notifications.documentsToReconcile()).toEqual(['comments/crash'])
    await dead.storage.close()
    const { inbox, listed } = await inboxAfterRestart(env, secret)
    expect(readInbox(inbox.doc)).toHaveLength(1)
    expect(await listed()).toHaveLength(1)
  }, 60_000)

  it('between outbox write and inbox projection: the restart drains the outbox and projects once', async () => {
    const { dataDir, secret, env } = await crashAt('after-outbox')
    const dead = storedState(dataDir)
    const [stored] = await dead.storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })
    expect(stored).toMatchObject({ kind: 'mention' })
    expect(await dead.storage.notifications.outboxOf('ben', stored!.id)).toMatchObject([{ status: 'pending' }])
    expect(await dead.inboxEntries()).toBe(0)
    await dead.storage.close()
    const { inbox, listed } = await inboxAfterRestart(env, secret)
    expect(readInbox(inbox.doc).map((n) => n.id)).toEqual([stored!.id])
    expect(await listed()).toHaveLength(1)
  }, 60_000)

  it('a thread notification between outbox write and inbox projection: the restart projects it once', async () => {
    const { dataDir, secret, env } = await crashAt('after-outbox', 'thread')
    const dead = storedState(dataDir)
    const [stored] = await dead.storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })
    expect(stored).toMatchObject({ kind: 'thread', actors: ['ana'] })
    expect(await dead.storage.notifications.outboxOf('ben', stored!.id)).toMatchObject([{ status: 'pending' }])
    await dead.storage.close()
    const { inbox, listed } = await inboxAfterRestart(env, secret, 'thread')
    expect(readInbox(inbox.doc).map((n) => n.id)).toEqual([stored!.id])
    expect(await listed()).toHaveLength(1)
  }, 60_000)

  it('a reaction between outbox write and inbox projection: the restart projects it once', async () => {
    const { dataDir, secret, env } = await crashAt('after-outbox', 'reaction')
    const dead = storedState(dataDir)
    const [stored] = await dead.storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })
    expect(stored).toMatchObject({ kind: 'reaction', actors: ['ana'], activityCount: 1 })
    expect(await dead.storage.notifications.outboxOf('ben', stored!.id)).toMatchObject([{ status: 'pending' }])
    await dead.storage.close()
    const { inbox, listed } = await inboxAfterRestart(env, secret, 'reaction')
    expect(readInbox(inbox.doc).map((n) => n.id)).toEqual([stored!.id])
    expect(await listed()).toHaveLength(1)
  }, 60_000)

  it('a reaction between acknowledgement and detection: the restart rescans its reactions and notifies once', async () => {
    const { dataDir, secret, env } = await crashAt('before-detection', 'reaction')
    const dead = storedState(dataDir)
    expect(await dead.storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).toEqual([])
    expect(await dead.storage.notifications.documentsToReconcile()).toEqual(['comments/crash'])
    await dead.storage.close()
    const { inbox, listed } = await inboxAfterRestart(env, secret, 'reaction')
    expect(readInbox(inbox.doc)).toMatchObject([{ kind: 'reaction', actors: ['ana'], activityCount: 1 }])
    expect(await listed()).toHaveLength(1)
  }, 60_000)

  it('a hide between acknowledgement and detection: the restart finds it in the comment and notifies its author once', async () => {
    const { dataDir, secret, env } = await crashAt('before-detection', 'moderation')
    const dead = storedState(dataDir)
    expect(await dead.storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).toEqual([])
    await dead.storage.close()
    const { inbox, listed } = await inboxAfterRestart(env, secret, 'moderation')
    expect(readInbox(inbox.doc)).toMatchObject([{ kind: 'moderation', actors: ['ana'], preview: 'spam' }])
    expect(await listed()).toHaveLength(1)
  }, 60_000)
})
