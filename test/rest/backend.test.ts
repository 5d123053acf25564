/**
 * Backend routes (membership, subjects, users): `Authorization: Bearer <PARLEY_API_KEY>`,
 * compared in constant time; without a configured key they are disabled (403), dev mode included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerOf, sameSecret } from '../../server/http/credentials.ts'
import { codeOf, rest, TEST_API_KEY, type RestAnswer } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const pair = (answer: RestAnswer) => [answer.status, codeOf(answer)]

describe('backend routes with an API key', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
  })
  afterAll(async () => {
    await s.dispose()
  })

  const member = '/api/v1/subjects/room/members/ana'

  it('refuses missing or wrong credentials', async () => {
    expect(pair(await rest(s, 'PUT', member, { json: { role: 'read' } }))).toEqual([401, 'token_missing'])
    expect(pair(await rest(s, 'PUT', member, { bearer: 'not-the-key', json: { role: 'read' } }))).toEqual([401, 'unauthorized'])
    expect(pair(await rest(s, 'PUT', member, { bearer: `${TEST_API_KEY}x`, json: { role: 'read' } }))).toEqual([401, 'unauthorized'])
    expect(pair(await rest(s, 'PUT', member, { bearer: await s.token('ana', { access: { '*': 'moderate' } }), json: { role: 'read' } }))).toEqual([
      401,
      'unauthorized',
    ])
    expect(pair(await rest(s, 'DELETE', member, { authorization: `Basic ${TEST_API_KEY}` }))).toEqual([401, 'unauthorized'])
    expect(await s.server.storage.subjects.get('room')).toBeNull()
    const accepted = await rest(s, 'PUT', member, { authorization: `bearer ${TEST_API_KEY}`, json: { role: 'read' } })
    expect(accepted).toEqual({ status: 200, body: { subjectId: 'room', userId: 'ana', role: 'read', closedConnections: 0 } })
  })

  it('validates paths and bodies', async () => {
    const put = (path: string, json: unknown) => rest(s, 'PUT', path, { bearer: TEST_API_KEY, json })
    expect(pair(await put(member, { role: 'owner' }))).toEqual([400, 'invalid_request'])
    expect(pair(await put(member, {}))).toEqual([400, 'invalid_request'])
    expect(pair(await put('/api/v1/subjects/room/members/a%20b', { role: 'read' }))).toEqual([400, 'invalid_request'])
    expect(pair(await put('/api/v1/subjects/room', { defaultRole: 'everyone' }))).toEqual([400, 'invalid_request'])
    expect(pair(await put('/api/v1/subjects/room', {}))).toEqual([400, 'invalid_request'])
    expect(pair(await put('/api/v1/users/ana', { handle: 'two words' }))).toEqual([400, 'invalid_request'])
    expect(pair(await put('/api/v1/users/ana', { handle: '@ana' }))).toEqual([400, 'invalid_request'])
    expect(pair(await put('/api/v1/users/ana', { name: 'x'.repeat(201) }))).toEqual([400, 'invalid_request'])
    const message = (await put(member, { role: 'owner' })).body as { error: { message: string } }
    expect(message.error.message).toMatch(/^body\.role: /)
  })

  it('stores profiles, registers subjects and removes members idempotently', async () => {
    const api = (method: string, path: string, json?: unknown) => rest(s, method, path, { bearer: TEST_API_KEY, json })
    expect((await api('PUT', '/api/v1/users/ana', { name: 'Ana' })).body).toEqual({ id: 'ana', name: 'Ana', handle: null })
    expect((await api('PUT', '/api/v1/users/ana', { name: null, handle: 'ana' })).body).toEqual({ id: 'ana', name: null, handle: 'ana' })
    expect((await api('PUT', '/api/v1/subjects/registered', { defaultRole: null })).body).toEqual({
      subjectId: 'registered',
      defaultRole: null,
      closedConnections: 0,
    })
    expect(await s.server.storage.subjects.get('registered')).toMatchObject({ defaultRole: null })
    expect((await api('DELETE', '/api/v1/subjects/registered/members/nobody')).body).toEqual({
      subjectId: 'registered',
      userId: 'nobody',
      removed: false,
      closedConnections: 0,
    })
  })
})

describe('backend routes without an API key', () => {
  for (const mode of ['a JWT secret', 'dev mode'] as const) {
    it(`are disabled (403) with ${mode}`, async () => {
      const s = await startServer(mode === 'dev mode' ? { jwt: { kind: 'dev' } } : {})
      try {
        const answer = await rest<{ error: { message: string } }>(s, 'PUT', '/api/v1/subjects/room/members/ana', { bearer: 'anything', json: { role: 'read' } })
        expect(pair(answer)).toEqual([403, 'forbidden'])
        expect(answer.body.error.message).toContain('PARLEY_API_KEY')
        expect(await s.server.storage.subjects.get('room')).toBeNull()
      } finally {
        await s.dispose()
      }
    })
  }
})

describe('credential helpers', () => {
  it('compares secrets whole, whatever their lengths', () => {
    expect(sameSecret(TEST_API_KEY, TEST_API_KEY)).toBe(true)
    expect(sameSecret(TEST_API_KEY.slice(0, -1), TEST_API_KEY)).toBe(false)
    expect(sameSecret('', TEST_API_KEY)).toBe(false)
  })
  it('reads the bearer of an Authorization header', () => {
    expect(bearerOf(undefined)).toBeUndefined()
    expect(bearerOf('  ')).toBeUndefined()
    expect(bearerOf('Bearer abc')).toBe('abc')
    expect(bearerOf('bearer  abc ')).toBe('abc')
    expect(bearerOf('Basic abc')).toBeNull()
    expect(bearerOf('Bearer a b')).toBeNull()
  })
})
