/** Users' email and locale over REST (contract additions, "Users"): set by the backend, never shown to other users. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../access/backends.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'

describe.each(BACKENDS)('user email and locale: $name', (backend) => {
  let s: TestServer
  beforeAll(async () => {
    s = await backend.startServer({ apiKey: TEST_API_KEY })
  })
  afterAll(async () => {
    await s.dispose()
  })

  it('stores email and locale, changes only what is given, and never lists them to users', async () => {
    const put = await rest(s, 'PUT', '/api/v1/users/ana', {
      bearer: TEST_API_KEY,
      json: { name: 'Ana Lima', handle: 'ana', email: 'ana@example.com', locale: 'pt-BR' },
    })
    expect(put).toEqual({ status: 200, body: { id: 'ana', name: 'Ana Lima', handle: 'ana' } })
    await rest(s, 'PUT', '/api/v1/users/ana', { bearer: TEST_API_KEY, json: { name: 'Ana Lima', handle: 'ana' } })
    expect(await s.server.storage.contacts.get('ana')).toMatchObject({ email: 'ana@example.com', locale: 'pt-BR' })

    await rest(s, 'PUT', '/api/v1/subjects/open', { bearer: TEST_API_KEY, json: { defaultRole: 'comment' } })
    const listed = await rest<{ users: Array<Record<string, unknown>> }>(s, 'GET', '/api/v1/users?subjectId=open&query=an', { bearer: await s.token('ben') })
    expect(listed.status).toBe(200)
    expect(listed.body.users).toEqual([{ id: 'ana', name: 'Ana Lima', handle: 'ana' }])
    expect(JSON.stringify(listed.body)).not.toContain('example.com')

    await rest(s, 'PUT', '/api/v1/users/ana', { bearer: TEST_API_KEY, json: { name: 'Ana Lima', handle: 'ana', email: null } })
    expect(await s.server.storage.contacts.get('ana')).toMatchObject({ email: null, locale: 'pt-BR' })
  })

  it('refuses an address or locale that is not one, and a user token setting it', async () => {
    for (const json of [{ email: 'not an address' }, { locale: 'english please' }, { email: `${'a'.repeat(250)}@example.com` }]) {
      const answer = await rest<{ error: { code: string } }>(s, 'PUT', '/api/v1/users/ben', { bearer: TEST_API_KEY, json })
      expect(answer.status).toBe(400)
      expect(answer.body.error.code).toBe('invalid_request')
    }
    expect((await rest(s, 'PUT', '/api/v1/users/ben', { bearer: await s.token('ben'), json: { email: 'ben@example.com' } })).status).toBe(401)
    expect(await s.server.storage.contacts.get('ben')).toBeNull()
  })
})
