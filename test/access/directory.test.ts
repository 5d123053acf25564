/**
 * The user directory for mention autocomplete, on each backend: profiles come from the backend
 * (`PUT /api/v1/users/:id`) and from tokens; a search returns only users who may read the
 * subject, whichever source gives (or took away) their role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectSynced } from '../helpers/provider.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'
import { BACKENDS } from './backends.ts'

interface DirectoryAnswer {
  users: Array<{ id: string; name: string | null; handle: string | null }>
}

describe.each(BACKENDS)('directory search on $name', (backend) => {
  let s: TestServer
  let caller: string
  beforeAll(async () => {
    s = await backend.startServer({ apiKey: TEST_API_KEY })
    caller = await s.token('caller', { access: { 'comments/room': 'read', 'comments/crowd': 'read' } })
    const api = (method: string, path: string, json?: unknown) => rest(s, method, path, { bearer: TEST_API_KEY, json })
    expect((await api('PUT', '/api/v1/users/u_ana', { name: 'Ana Lopez', handle: 'ana' })).body).toEqual({ id: 'u_ana', name: 'Ana Lopez', handle: 'ana' })
    await api('PUT', '/api/v1/subjects/room/members/u_ana', { role: 'comment' })
    await api('PUT', '/api/v1/users/u_andy', { name: 'Andy', handle: 'andy' })
    await api('PUT', '/api/v1/users/u_alba', { name: 'Alba', handle: 'alba' })
    await api('PUT', '/api/v1/subjects/room/members/u_alba', { role: 'read' })
    await api('DELETE', '/api/v1/subjects/room/members/u_alba')
    await api('PUT', '/api/v1/users/u_amy', { name: 'Amy', handle: 'amy' })
    await api('PUT', '/api/v1/subjects/elsewhere/members/u_amy', { role: 'moderate' })
    // Two users known only from their tokens: one whose claim reads the room, one whose does not.
    for (const [id, name, access] of [
      ['u_anne', 'Anne', { 'comments/room': 'read' }],
      ['u_anton', 'Anton', { 'comments/elsewhere': 'comment' }],
    ] as const) {
      const client = await connectSynced(s.server.webSocketUrl, `inbox/${id}`, await s.token(id, { name, handle: name.toLowerCase(), access }))
      client.destroy()
    }
  })
  afterAll(async () => {
    await s.dispose()
  })

  const search = (query: string, subjectId = 'room', token = caller, extra = '') =>
    rest<DirectoryAnswer>(s, 'GET', `/api/v1/users?query=${encodeURIComponent(query)}&subjectId=${subjectId}${extra}`, { bearer: token })
  const ids = async (query: string, subjectId = 'room', extra = '') => {
    const answer = await search(query, subjectId, caller, extra)
    expect(answer.status).toBe(200)
    return answer.body.users.map((u) => u.id)
  }

  it('returns only users who may read the subject', async () => {
    expect(await ids('a')).toEqual(['u_ana', 'u_anne'])
    expect((await search('an')).body.users).toEqual([
      { id: 'u_ana', name: 'Ana Lopez', handle: 'ana' },
      { id: 'u_anne', name: 'Anne', handle: 'anne' },
    ])
    expect(await ids('lop')).toEqual(['u_ana'])
    expect(await ids('andy')).toEqual([])
    for (const id of await ids('')) {
      expect(await s.server.access.decideRemembered(id, 'comments/room')).toMatchObject({ ok: true })
    }
  })

  it('follows the default role and each user’s own sources, per subject', async () => {
    const elsewhere = await s.token('caller', { access: { 'comments/elsewhere': 'read' } })
    expect((await search('a', 'elsewhere', elsewhere)).body.users.map((u) => u.id)).toEqual(['u_amy', 'u_anton'])
    await rest(s, 'PUT', '/api/v1/subjects/room', { bearer: TEST_API_KEY, json: { defaultRole: 'read' } })
    expect(await ids('a')).toEqual(['u_alba', 'u_amy', 'u_ana', 'u_andy', 'u_anne', 'u_anton'])
    await rest(s, 'PUT', '/api/v1/subjects/room', { bearer: TEST_API_KEY, json: { defaultRole: null } })
    expect(await ids('a')).toEqual(['u_ana', 'u_anne'])
  })

  it('finds a reader behind many users who may not read, and honours limit', async () => {
    for (let i = 0; i < 150; i++) await s.server.storage.users.putProfile(`crowd-${i}`, { name: null, handle: `zz-${String(i).padStart(3, '0')}` })
    await s.server.storage.users.putProfile('crowd-reader', { name: null, handle: 'zz-zreader' })
    await s.server.storage.subjects.putMember('crowd', 'crowd-reader', 'read')
    await s.server.storage.subjects.putMember('crowd', 'crowd-7', 'read')
    await s.server.storage.subjects.putMember('crowd', 'crowd-140', 'read')
    expect(await ids('zz', 'crowd')).toEqual(['crowd-7', 'crowd-140', 'crowd-reader'])
    expect(await ids('zz', 'crowd', '&limit=2')).toEqual(['crowd-7', 'crowd-140'])
  })

  it('refuses callers who may not read the subject, and malformed queries', async () => {
    const outsider = await s.token('outsider', { access: {} })
    const refused = await search('a', 'room', outsider)
    expect([refused.status, codeOf(refused)]).toEqual([403, 'forbidden'])
    const noSubject = await rest(s, 'GET', '/api/v1/users?query=a', { bearer: caller })
    expect([noSubject.status, codeOf(noSubject)]).toEqual([400, 'invalid_request'])
    for (const extra of ['&limit=0', '&limit=51', '&limit=x']) {
      const answer = await search('a', 'room', caller, extra)
      expect([answer.status, codeOf(answer)]).toEqual([400, 'invalid_request'])
    }
    const badSubject = await search('a', 'no%20spaces')
    expect([badSubject.status, codeOf(badSubject)]).toEqual([400, 'invalid_request'])
    const anonymous = await rest(s, 'GET', '/api/v1/users?query=a&subjectId=room')
    expect([anonymous.status, codeOf(anonymous)]).toEqual([401, 'token_missing'])
  })
})
