/**
 * `/api/v1/openapi.json`: generated from the same route declarations that validate requests, so
 * every documented operation is served, with the schemas the server enforces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

interface Operation {
  security: Array<Record<string, unknown>>
  parameters: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>
  requestBody?: { content: { 'application/json': { schema: { properties: Record<string, unknown>; required?: string[] } } } }
  responses: Record<string, unknown>
}

interface OpenApi {
  openapi: string
  info: { title: string }
  components: { securitySchemes: Record<string, unknown> }
  paths: Record<string, Record<string, Operation>>
}

const OPERATIONS = [
  ['put', '/api/v1/subjects/{subjectId}', 'apiKey'],
  ['put', '/api/v1/subjects/{subjectId}/members/{userId}', 'apiKey'],
  ['delete', '/api/v1/subjects/{subjectId}/members/{userId}', 'apiKey'],
  ['get', '/api/v1/subjects/{subjectId}/threads', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments', 'userToken'],
  ['patch', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}', 'userToken'],
  ['delete', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}', 'userToken'],
  ['put', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}/reactions/{emoji}', 'userToken'],
  ['delete', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}/reactions/{emoji}', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/resolve', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/reopen', 'userToken'],
  ['put', '/api/v1/subjects/{subjectId}/threads/{threadId}/subscription', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/read', 'userToken'],
  ['put', '/api/v1/subjects/{subjectId}/follow', 'userToken'],
  ['delete', '/api/v1/subjects/{subjectId}/follow', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}/hide', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}/unhide', 'userToken'],
  ['post', '/api/v1/subjects/{subjectId}/threads/{threadId}/comments/{commentId}/report', 'userToken'],
  ['put', '/api/v1/subjects/{subjectId}/bans/{userId}', 'userToken+apiKey'],
  ['delete', '/api/v1/subjects/{subjectId}/bans/{userId}', 'userToken+apiKey'],
  ['get', '/api/v1/subjects/{subjectId}/moderation-log', 'userToken+apiKey'],
  ['put', '/api/v1/users/{userId}', 'apiKey'],
  ['get', '/api/v1/users', 'userToken'],
  ['get', '/api/v1/subjects/{subjectId}/presence', 'userToken+apiKey'],
  ['get', '/api/v1/users/{userId}/presence', 'userToken+apiKey'],
  ['get', '/api/v1/notifications', 'userToken'],
  ['get', '/api/v1/notifications/unread-count', 'userToken'],
  ['post', '/api/v1/notifications/read', 'userToken'],
  ['post', '/api/v1/notifications/seen', 'userToken'],
  ['post', '/api/v1/notifications/archive', 'userToken'],
  ['get', '/api/v1/preferences', 'userToken'],
  ['put', '/api/v1/preferences', 'userToken'],
  ['post', '/api/v1/devices', 'userToken'],
  ['get', '/api/v1/devices', 'userToken'],
  ['delete', '/api/v1/devices/{id}', 'userToken'],
  ['get', '/api/v1/notifications/{id}/deliveries', 'userToken'],
  ['get', '/api/v1/deliveries', 'apiKey'],
  ['post', '/api/v1/deliveries/{id}/retry', 'apiKey'],
  ['get', '/api/v1/search', 'userToken'],
  ['get', '/api/v1/feeds/{feedId}/items', 'userToken+apiKey'],
  ['post', '/api/v1/feeds/{feedId}/items', 'apiKey'],
  ['get', '/api/v1/trending', 'userToken'],
] as const

/** Routes without bearer credentials: the one-click unsubscribe checks its signed token instead. */
const PUBLIC_OPERATIONS = [
  ['post', '/api/v1/unsubscribe'],
  ['get', '/api/v1/unsubscribe'],
] as const

describe('OpenAPI description', () => {
  let s: TestServer
  let doc: OpenApi
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
    const answer = await rest<OpenApi>(s, 'GET', '/api/v1/openapi.json')
    expect(answer.status).toBe(200)
    doc = answer.body
  })
  afterAll(async () => {
    await s.dispose()
  })

  const op = (method: string, path: string): Operation => {
    const found = doc.paths[path]?.[method]
    if (!found) throw new Error(`${method} ${path} is not documented`)
    return found
  }

  it('documents exactly the REST operations, each with its credentials', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'userToken'])
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`))
    expect(documented.sort()).toEqual([...OPERATIONS, ...PUBLIC_OPERATIONS].map(([method, path]) => `${method} ${path}`).sort())
    for (const [method, path] of PUBLIC_OPERATIONS) {
      expect(op(method, path).security, `${method} ${path}`).toEqual([])
      expect(Object.keys(op(method, path).responses), `${method} ${path}`).toEqual(expect.arrayContaining(['200', '400', '403']))
    }
    for (const [method, path, scheme] of OPERATIONS) {
      expect(op(method, path).security, `${method} ${path}`).toEqual(scheme.split('+').map((name) => ({ [name]: [] })))
      expect(Object.keys(op(method, path).responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401']))
    }
  })

  it('describes parameters and bodies from the schemas the server enforces', () => {
    const newThread = op('post', '/api/v1/subjects/{subjectId}/threads')
    expect(newThread.parameters).toEqual([expect.objectContaining({ name: 'subjectId', in: 'path', required: true })])
    const body = newThread.requestBody?.content['application/json'].schema
    expect(Object.keys(body?.properties ?? {}).sort()).toEqual(['body', 'metadata'])
    expect(body?.required).toEqual(['body'])
    expect(Object.keys(newThread.responses)).toEqual(expect.arrayContaining(['201', '403', '404', '413']))
    const role = op('put', '/api/v1/subjects/{subjectId}/members/{userId}').requestBody?.content['application/json'].schema.properties.role
    expect(role).toMatchObject({ enum: ['read', 'comment', 'moderate'] })
    const search = op('get', '/api/v1/users').parameters
    expect(search.map((p) => [p.name, p.in, p.required])).toEqual([
      ['query', 'query', false],
      ['subjectId', 'query', true],
      ['limit', 'query', false],
    ])
  })

  it('serves every documented operation (refusing it without credentials, never 404)', async () => {
    for (const [method, path] of OPERATIONS) {
      const concrete = path.replace(/\{[^}]+\}/g, 'x1')
      const answer = await rest(s, method.toUpperCase(), concrete)
      expect([method, path, answer.status]).toEqual([method, path, 401])
    }
    for (const [method, path] of PUBLIC_OPERATIONS) {
      const answer = await rest(s, method.toUpperCase(), `${path}?token=a.b`)
      expect([method, path, answer.status]).toEqual([method, path, 403])
    }
  })
})
