/**
 * Every malformed or unauthorised REST request gets its status and error code: credentials
 * (401), malformed paths, queries and bodies (400), sizes (413), rights (403, checked before
 * existence), unknown subjects, threads and comments (404). Nothing refused is written.
 */
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_COMMENT_LENGTH } from '../../protocol/index.ts'
import { MAX_REST_BODY_BYTES } from '../../server/http/api.ts'
import { MAX_METADATA_ENTRIES } from '../../server/http/schemas.ts'
import { codeOf, rest, TEST_API_KEY, type RestOptions } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'

interface Case {
  name: string
  method: string
  path: string
  options: RestOptions
  status: number
  code: string
}

describe('REST errors', () => {
  let s: TestServer
  let threadId: string
  let commentId: string
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
    tokens.writer = await s.token('writer', { access: { 'comments/*': 'comment' } })
    tokens.reader = await s.token('reader', { access: { 'comments/known': 'read' } })
    tokens.nobody = await s.token('nobody', { access: {} })
    tokens.forged = await tokenFor(newSecret(), 'writer')
    tokens.expired = await new SignJWT({ access: { '*': 'comment' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('writer')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(s.secret))
    await rest(s, 'PUT', '/api/v1/subjects/known', { bearer: TEST_API_KEY, json: { defaultRole: null } })
    const created = await rest<{ threadId: string; commentId: string }>(s, 'POST', '/api/v1/subjects/known/threads', {
      bearer: tokens.writer,
      json: { body: 'first' },
    })
    expect(created.status).toBe(201)
    ;({ threadId, commentId } = created.body)
  })
  afterAll(async () => {
    await s.dispose()
  })

  const threads = '/api/v1/subjects/known/threads'
  const as = (who: string, options: RestOptions = {}): RestOptions => ({ bearer: tokens[who], ...options })

  const cases = (): Case[] => [
    { name: 'no Authorization', method: 'GET', path: threads, options: {}, status: 401, code: 'token_missing' },
    { name: 'not a bearer', method: 'GET', path: threads, options: { authorization: 'Basic d3JpdGVyOng=' }, status: 401, code: 'token_invalid' },
    { name: 'not a JWT', method: 'GET', path: threads, options: { bearer: 'garbage' }, status: 401, code: 'token_invalid' },
    { name: 'forged signature', method: 'GET', path: threads, options: as('forged'), status: 401, code: 'token_invalid' },
    { name: 'expired token', method: 'GET', path: threads, options: as('expired'), status: 401, code: 'token_expired' },
    { name: 'the API key on a user route', method: 'GET', path: threads, options: { bearer: TEST_API_KEY }, status: 401, code: 'token_invalid' },
    { name: 'bad subject id', method: 'GET', path: '/api/v1/subjects/a%20b/threads', options: as('writer'), status: 400, code: 'invalid_request' },
    {
      name: 'bad thread id',
      method: 'POST',
      path: '/api/v1/subjects/known/threads/x%2Fy/comments',
      options: as('writer', { json: { body: 'x' } }),
      status: 400,
      code: 'invalid_request',
    },
    { name: 'body not JSON', method: 'POST', path: threads, options: as('writer', { raw: '{body:' }), status: 400, code: 'invalid_request' },
    { name: 'no body', method: 'POST', path: threads, options: as('writer'), status: 400, code: 'invalid_request' },
    { name: 'body field missing', method: 'POST', path: threads, options: as('writer', { json: {} }), status: 400, code: 'invalid_request' },
    { name: 'body of the wrong type', method: 'POST', path: threads, options: as('writer', { json: { body: 42 } }), status: 400, code: 'invalid_request' },
    {
      name: 'unknown field',
      method: 'POST',
      path: threads,
      options: as('writer', { json: { body: 'x', createdBy: 'someone' } }),
      status: 400,
      code: 'invalid_request',
    },
    { name: 'empty comment', method: 'POST', path: threads, options: as('writer', { json: { body: '' } }), status: 400, code: 'invalid_request' },
    {
      name: 'mention of a bad id',
      method: 'POST',
      path: threads,
      options: as('writer', { json: { body: [{ text: '@x', mention: 'no spaces' }] } }),
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'too much metadata',
      method: 'POST',
      path: threads,
      options: as('writer', { json: { body: 'x', metadata: Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES + 1 }, (_, i) => [`k${i}`, i])) } }),
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'comment too long',
      method: 'POST',
      path: threads,
      options: as('writer', { json: { body: 'x'.repeat(MAX_COMMENT_LENGTH + 1) } }),
      status: 413,
      code: 'too_large',
    },
    {
      name: 'request body too large',
      method: 'POST',
      path: threads,
      options: as('writer', { json: { body: 'x'.repeat(MAX_REST_BODY_BYTES) } }),
      status: 413,
      code: 'too_large',
    },
    { name: 'read role writing', method: 'POST', path: threads, options: as('reader', { json: { body: 'x' } }), status: 403, code: 'forbidden' },
    {
      name: 'read role replying',
      method: 'POST',
      path: `${threads}/${threadId}/comments`,
      options: as('reader', { json: { body: 'x' } }),
      status: 403,
      code: 'forbidden',
    },
    { name: 'no role reading', method: 'GET', path: threads, options: as('nobody'), status: 403, code: 'forbidden' },
    { name: 'no role on an unknown subject', method: 'GET', path: '/api/v1/subjects/ghost/threads', options: as('nobody'), status: 403, code: 'forbidden' },
    { name: 'unknown subject, listing', method: 'GET', path: '/api/v1/subjects/ghost/threads', options: as('writer'), status: 404, code: 'not_found' },
    {
      // With `comment` there, a first thread creates the subject (test/rest/parity.test.ts).
      name: 'unknown subject, new thread without comment there',
      method: 'POST',
      path: '/api/v1/subjects/ghost/threads',
      options: as('reader', { json: { body: 'x' } }),
      status: 403,
      code: 'forbidden',
    },
    {
      name: 'unknown subject, reply',
      method: 'POST',
      path: `/api/v1/subjects/ghost/threads/${threadId}/comments`,
      options: as('writer', { json: { body: 'x' } }),
      status: 404,
      code: 'not_found',
    },
    {
      name: 'unknown thread',
      method: 'POST',
      path: `${threads}/no-such-thread/comments`,
      options: as('writer', { json: { body: 'x' } }),
      status: 404,
      code: 'not_found',
    },
    {
      name: 'unknown parent',
      method: 'POST',
      path: `${threads}/${threadId}/comments`,
      options: as('writer', { json: { body: 'x', parentId: 'no-such-comment' } }),
      status: 404,
      code: 'not_found',
    },
    { name: 'unknown route', method: 'GET', path: '/api/v1/nothing-here', options: as('writer'), status: 404, code: 'not_found' },
  ]

  it('answers each refused request with its status and code, and writes nothing', async () => {
    const answers: Array<[string, number, string | undefined]> = []
    for (const c of cases()) {
      const answer = await rest(s, c.method, c.path, c.options)
      answers.push([c.name, answer.status, codeOf(answer)])
      expect(typeof (answer.body as { error?: { message?: unknown } }).error?.message, c.name).toBe('string')
    }
    expect(answers).toEqual(cases().map((c) => [c.name, c.status, c.code]))
    const listing = await rest<{ threads: Array<{ id: string; comments: Array<{ id: string }> }> }>(s, 'GET', threads, as('reader'))
    expect(listing.body.threads.map((t) => [t.id, t.comments.map((c) => c.id)])).toEqual([[threadId, [commentId]]])
    expect(await s.server.storage.documents.exists('comments/ghost')).toBe(false)
  })
})
