/**
 * Search over comments (issue 20) end to end, per backend: comments written through the SDK and a
 * real @hocuspocus/provider are findable within 2 s; edits, deletes, hides and unhides reach the
 * index; results only come from subjects the caller may read (token patterns, membership, default
 * roles, revoked membership); hostile queries never answer 500; paging; the SDK's `search`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { ParleyClient } from '../../client/index.ts'
import type { CommentsHandle } from '../../client/comments.ts'
import { ParleyError } from '../../protocol/index.ts'
import { addComment, addThread } from '../helpers/comments.ts'
import { acknowledged, connectSynced } from '../helpers/provider.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import { openSynced, sdkClient } from '../helpers/sdk.ts'
import type { TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { search, searchServer, waitFound, type Backend, type SearchPageJson } from './helpers.ts'

/** Queries a user could type to break a query engine: each answers 200 or 400, never 500. */
const HOSTILE = [
  '"',
  '*',
  '**',
  'NEAR(',
  'NEAR(a b)',
  '-',
  '-word',
  'a OR b',
  'x AND',
  '(',
  ')',
  ':',
  "'",
  '\\',
  '^',
  '""',
  '" "',
  '*"*',
  'é*',
  '🙂',
  '\u0000',
  'a\u0000b',
  '日本語',
  'x'.repeat(10_240),
  'word '.repeat(2_000),
  '%',
  '%25',
  '"unclosed phrase',
  'col:value',
  '{a b}',
  'a:*',
  "' | '",
]

function hideComment(doc: Y.Doc, threadId: string, commentId: string, by: string): void {
  const thread = doc.getMap('threads').get(threadId)
  const comments = thread instanceof Y.Map ? thread.get('comments') : null
  if (!(comments instanceof Y.Array)) throw new Error('no comments')
  const comment = comments.toArray().find((c) => c instanceof Y.Map && c.get('id') === commentId)
  if (!(comment instanceof Y.Map)) throw new Error(`no comment ${commentId}`)
  doc.transact(() => {
    comment.set('moderation', { hiddenBy: by, reason: 'spam', at: Date.now() })
    const body = comment.get('body')
    if (body instanceof Y.Text) body.delete(0, body.length)
  })
}

export function searchSuite(backend: Backend): void {
  describe(`search: ${backend}`, () => {
    let s: TestServer
    let ana: ParleyClient
    let anaToken: string
    beforeAll(async () => {
      s = await searchServer(backend)
      ana = await sdkClient(s, 'ana')
      anaToken = await s.token('ana')
    })
    afterAll(async () => {
      await ana.close()
      await s.dispose()
    })

    it('finds a comment written through the SDK within 2 s, and follows edits and deletes', async () => {
      const handle: CommentsHandle = await openSynced(ana, 'doc-edit')
      const { threadId, commentId } = handle.createThread('The aardvark sleeps under the baobab')
      await waitFound(s, anaToken, 'aardvark', [commentId])
      const answer = await search(s, anaToken, '"aardvark sleeps"')
      expect(answer.status).toBe(200)
      expect(answer.body.results).toEqual([
        {
          subjectId: 'doc-edit',
          threadId,
          commentId,
          authorId: 'ana',
          snippet: 'The <mark>aardvark</mark> <mark>sleeps</mark> under the baobab',
          createdAt: expect.any(Number),
        },
      ])
      handle.edit(threadId, commentId, 'The pangolin sleeps')
      await waitFound(s, anaToken, 'pangolin', [commentId])
      await waitFound(s, anaToken, 'aardvark', [])
      const { commentId: second } = handle.reply(threadId, 'A pangolin reply')
      await waitFound(s, anaToken, 'pangolin', [commentId, second].sort())
      handle.delete(threadId, commentId)
      await waitFound(s, anaToken, 'pangolin', [second])
      handle.close()
    })

    it('finds a comment written through a raw provider, removes it when a moderator hides it, restores it at unhide', async () => {
      const writer = await connectSynced(s.server.webSocketUrl, 'comments/doc-hide', anaToken)
      addThread(writer.doc, 't1', 'ana')
      addComment(writer.doc, 't1', 'c1', 'ana', 'Quokka selfies are wonderful')
      await acknowledged(writer)
      await waitFound(s, anaToken, 'quokka wonderful', ['c1'])
      const moderator = await connectSynced(s.server.webSocketUrl, 'comments/doc-hide', await s.token('mod', { access: { '*': 'moderate' } }))
      await waitFor(() => moderator.doc.getMap('threads').has('t1'), 'the moderator sees the thread')
      hideComment(moderator.doc, 't1', 'c1', 'mod')
      await acknowledged(moderator)
      await waitFound(s, anaToken, 'quokka', [])
      // Unhide, as the server does it: the words come back in the same transaction that clears moderation.
      const direct = await s.server.hocuspocus.openDirectConnection('comments/doc-hide', {})
      await direct.transact((doc) => {
        const thread = doc.getMap('threads').get('t1') as Y.Map<unknown>
        const comment = (thread.get('comments') as Y.Array<Y.Map<unknown>>).get(0)
        comment.delete('moderation')
        ;(comment.get('body') as Y.Text).insert(0, 'Quokka selfies are back')
      })
      await waitFound(s, anaToken, 'quokka', ['c1'])
      await direct.disconnect()
      writer.destroy()
      moderator.destroy()
    })

    it('answers only from subjects the caller may read: token patterns, membership, default roles, revoked membership', async () => {
      const writes: Array<[string, string]> = [
        ['team-a', 'narwhal in team a'],
        ['team-b', 'narwhal in team b'],
        ['private', 'narwhal in private'],
        ['open', 'narwhal in open'],
      ]
      const ids: Record<string, string> = {}
      for (const [subjectId, text] of writes) {
        const handle = await openSynced(ana, subjectId)
        ids[subjectId] = handle.createThread(text).commentId
        handle.close()
      }
      const all = Object.values(ids).sort()
      await waitFound(s, anaToken, 'narwhal', all)
      const backend = { bearer: TEST_API_KEY }
      expect((await rest(s, 'PUT', '/api/v1/subjects/open', { ...backend, json: { defaultRole: 'read' } })).status).toBe(200)
      const pattern = await s.token('pat', { access: { 'comments/team-*': 'read' } })
      const none = await s.token('carol', { access: {} })
      await waitFound(s, pattern, 'narwhal', [ids['team-a'], ids['team-b'], ids['open']].map(String).sort())
      await waitFound(s, none, 'narwhal', [String(ids['open'])])
      expect((await rest(s, 'PUT', '/api/v1/subjects/private/members/carol', { ...backend, json: { role: 'read' } })).status).toBe(200)
      await waitFound(s, none, 'narwhal', [ids['open'], ids['private']].map(String).sort())
      expect((await rest(s, 'DELETE', '/api/v1/subjects/private/members/carol', backend)).status).toBeLessThan(300)
      await waitFound(s, none, 'narwhal', [String(ids['open'])])
      // A subject filter the caller may not read is refused like the threads route refuses it.
      const filtered = await search(s, none, 'narwhal', { subjectId: 'private' })
      expect([filtered.status, codeOf(filtered)]).toEqual([403, 'forbidden'])
      const mine = await search(s, pattern, 'narwhal', { subjectId: 'team-b' })
      expect(mine.body.results.map((r) => r.commentId)).toEqual([ids['team-b']])
    })

    it('answers hostile queries 200 or 400 invalid_request, never 500', async () => {
      for (const q of HOSTILE) {
        const answer = await rest<SearchPageJson>(s, 'GET', `/api/v1/search?q=${encodeURIComponent(q)}`, { bearer: anaToken })
        if (answer.status === 200) expect(Array.isArray(answer.body.results), q).toBe(true)
        else expect([answer.status, codeOf(answer)], q.slice(0, 40)).toEqual([400, 'invalid_request'])
      }
      expect((await search(s, anaToken, 'x'.repeat(10_240))).status).toBe(400)
      expect((await search(s, anaToken, 'a*')).status).toBe(400)
      expect((await search(s, anaToken, '')).body).toEqual({ results: [], nextCursor: null })
      expect(codeOf(await rest(s, 'GET', '/api/v1/search', { bearer: anaToken }))).toBe('invalid_request')
      expect(codeOf(await search(s, anaToken, 'x', { cursor: 'not-a-cursor' }))).toBe('invalid_request')
      expect(codeOf(await search(s, anaToken, 'x', { limit: 1000 }))).toBe('invalid_request')
      expect((await rest(s, 'GET', '/api/v1/search?q=x')).status).toBe(401)
    })

    it('pages with an opaque cursor: every match once, best first', async () => {
      const handle = await openSynced(ana, 'doc-pages')
      const written = new Set<string>()
      const { threadId, commentId } = handle.createThread('okapi okapi okapi okapi')
      written.add(commentId)
      for (let i = 0; i < 24; i++) written.add(handle.reply(threadId, `okapi number ${i} ${'filler '.repeat(i)}`).commentId)
      await waitFound(s, anaToken, 'okapi', [...written].sort(), 5_000)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: SearchPageJson = (await search(s, anaToken, 'okapi', cursor === null ? { limit: 10 } : { limit: 10, cursor })).body
        if (pages === 0) expect(page.results[0]?.commentId).toBe(commentId)
        seen.push(...page.results.map((r) => r.commentId))
        cursor = page.nextCursor
        pages++
      } while (cursor !== null && pages < 10)
      expect(pages).toBe(3)
      expect(seen.sort()).toEqual([...written].sort())
      handle.close()
    })

    it('SDK: client.search finds, pages and rejects with the server’s code', async () => {
      const handle = await openSynced(ana, 'doc-sdk')
      const { commentId } = handle.createThread('Axolotl regrows its limbs')
      await waitFound(s, anaToken, 'axolotl', [commentId])
      const page = await ana.search('axolo*', { subjectId: 'doc-sdk' })
      expect(page.results.map((r) => [r.commentId, r.snippet])).toEqual([[commentId, '<mark>Axolotl</mark> regrows its limbs']])
      expect(page.nextCursor).toBeNull()
      const refused = await ana.search('x*').catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(ParleyError)
      expect((refused as ParleyError).code).toBe('invalid_request')
      handle.close()
    })
  })
}
