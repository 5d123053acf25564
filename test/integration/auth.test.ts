import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { parseAuthReason } from '../../protocol/index.ts'
import { addComment, addThread, commentTexts, rebuild } from '../helpers/comments.ts'
import { acknowledged, authFailureOf, connectSynced } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

describe('authentication and roles', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startServer()
  })
  afterAll(async () => {
    await s.dispose()
  })

  const codeOf = (reason: string) => parseAuthReason(reason)?.code

  it('refuses a connection without a token', async () => {
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'comments/a', ''))).toBe('token_missing')
  })

  it('refuses a token with a bad signature', async () => {
    const forged = await tokenFor(newSecret(), 'ana')
    const reason = await authFailureOf(s.server.webSocketUrl, 'comments/a', forged)
    expect(codeOf(reason)).toBe('token_invalid')
    expect(reason).toMatch(/signature/)
  })

  it('refuses a token that is not a JWT', async () => {
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'comments/a', 'not-a-jwt'))).toBe('token_invalid')
  })

  it('refuses an expired token', async () => {
    const expired = await new SignJWT({ access: { '*': 'comment' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ana')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(s.secret))
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'comments/a', expired))).toBe('token_expired')
  })

  it('refuses a token without sub', async () => {
    const noSub = await new SignJWT({ access: { '*': 'comment' } }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(s.secret))
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'comments/a', noSub))).toBe('token_invalid')
  })

  it('refuses a document outside the access claim', async () => {
    const token = await s.token('ana', { access: { 'comments/allowed': 'comment', 'comments/team-*': 'read' } })
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'comments/other', token))).toBe('forbidden')
    await expect(connectSynced(s.server.webSocketUrl, 'comments/allowed', token).then((c) => c.destroy())).resolves.toBeUndefined()
    await expect(connectSynced(s.server.webSocketUrl, 'comments/team-1', token).then((c) => c.destroy())).resolves.toBeUndefined()
  })

  it('refuses names that are not contract documents', async () => {
    const token = await s.token('ana')
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'random', token))).toBe('invalid_document_name')
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'comments/bad id', token))).toBe('invalid_document_name')
  })

  it("refuses another user's inbox, whatever the access claim says", async () => {
    const token = await s.token('ana', { access: { '*': 'moderate', 'inbox/ben': 'moderate' } })
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'inbox/ben', token))).toBe('forbidden')
    const own = await connectSynced(s.server.webSocketUrl, 'inbox/ana', token)
    own.destroy()
  })

  it('opens the own personal feed without any access claim', async () => {
    const token = await s.token('ana', { access: {} })
    const feed = await connectSynced(s.server.webSocketUrl, 'feed/user:ana', token)
    feed.destroy()
    expect(codeOf(await authFailureOf(s.server.webSocketUrl, 'feed/user:ben', token))).toBe('forbidden')
  })

  /**
   * A write from a read-only connection must reach neither storage nor other clients. The writer
   * then changes its awareness: the server handles one connection's messages in order, so once
   * another client sees that awareness state, the write before it has been handled.
   */
  async function expectWriteDropped(documentName: string, writerToken: string): Promise<void> {
    const observerToken = await s.token('observer', { access: { '*': 'moderate' } })
    const observer = await connectSynced(s.server.webSocketUrl, documentName, observerToken)
    const writer = await connectSynced(s.server.webSocketUrl, documentName, writerToken)
    try {
      addThread(writer.doc, 'forged', 'mallory')
      addComment(writer.doc, 'forged', 'c1', 'mallory', 'should never arrive')
      writer.provider.setAwarenessField('user', { id: 'mallory', name: 'M' })
      await waitFor(
        () => [...observer.provider.awareness!.getStates().values()].some((state) => (state.user as { id?: string } | undefined)?.id === 'mallory'),
        'observer sees the writer’s awareness',
      )
      expect(observer.doc.getMap('threads').has('forged')).toBe(false)
      expect(s.server.hocuspocus.documents.get(documentName)?.getMap('threads').has('forged')).toBe(false)
      const stored = rebuild(await s.server.storage.documents.load(documentName))
      expect(stored.getMap('threads').has('forged')).toBe(false)
    } finally {
      writer.destroy()
      observer.destroy()
    }
  }

  it("drops a read connection's writes: not stored, not broadcast", async () => {
    const token = await s.token('mallory', { access: { 'comments/readonly': 'read' } })
    await expectWriteDropped('comments/readonly', token)
  })

  it('drops writes to a feed, which is read-only for every client', async () => {
    const token = await s.token('mallory', { access: { '*': 'moderate' } })
    await expectWriteDropped('feed/news', token)
  })

  it('lets a comment connection write, acknowledged and stored', async () => {
    const writer = await connectSynced(s.server.webSocketUrl, 'comments/written', await s.token('ana'))
    addThread(writer.doc, 't1', 'ana')
    addComment(writer.doc, 't1', 'c1', 'ana', 'hello')
    await acknowledged(writer)
    writer.destroy()
    expect(commentTexts(rebuild(await s.server.storage.documents.load('comments/written')), 't1')).toEqual(['hello'])
  })

  it('keeps serving others after refusals', async () => {
    await Promise.all(Array.from({ length: 10 }, () => authFailureOf(s.server.webSocketUrl, 'comments/a', 'garbage')))
    const ok = await connectSynced(s.server.webSocketUrl, 'comments/a', await s.token('ana'))
    expect(ok.doc).toBeInstanceOf(Y.Doc)
    ok.destroy()
    const health = await fetch(`${s.server.httpUrl}/health`)
    expect(health.status).toBe(200)
  })
})

describe('tokens in production', () => {
  it('requires exp when NODE_ENV=production', async () => {
    const s = await startServer({ production: true })
    try {
      const noExp = await tokenFor(s.secret, 'ana', {}, null)
      expect(parseAuthReason(await authFailureOf(s.server.webSocketUrl, 'comments/a', noExp))?.code).toBe('token_expired')
      const withExp = await connectSynced(s.server.webSocketUrl, 'comments/a', await s.token('ana'))
      withExp.destroy()
    } finally {
      await s.dispose()
    }
  })
})
