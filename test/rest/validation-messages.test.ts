/**
 * Validation messages name the missing and the unknown keys (issue 24), instead of zod's
 * "body.body: Invalid input".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rest } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

interface ErrorBody {
  error: { code: string; message: string }
}

describe('REST validation messages', () => {
  let s: TestServer
  let bearer: string
  const threads = '/api/v1/subjects/messages/threads'
  beforeAll(async () => {
    s = await startServer()
    bearer = await s.token('writer')
  })
  afterAll(async () => {
    await s.dispose()
  })

  it('POST threads {"text":"hi"}: `body` is required and `text` is an unknown key', async () => {
    const answer = await rest<ErrorBody>(s, 'POST', threads, { bearer, json: { text: 'hi' } })
    expect(answer.status).toBe(400)
    expect(answer.body.error.code).toBe('invalid_request')
    expect(answer.body.error.message).toContain('`body` is required')
    expect(answer.body.error.message).toContain('unknown key `text`')
  })

  it('a body of the wrong type keeps the field and zod’s reason', async () => {
    const answer = await rest<ErrorBody>(s, 'POST', threads, { bearer, json: { body: 42 } })
    expect(answer.status).toBe(400)
    expect(answer.body.error.message).toMatch(/^body\.body: /)
  })

  it('a valid body is still accepted', async () => {
    const answer = await rest<{ threadId: string }>(s, 'POST', threads, { bearer, json: { body: 'hi' } })
    expect(answer.status).toBe(201)
  })
})
