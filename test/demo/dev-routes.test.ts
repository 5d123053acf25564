/**
 * Dev mode only (server/http/demo.ts): `POST /dev/token` and the built demo at `/`. Outside dev mode
 * the token route answers 403 `forbidden` and `/` is not served.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codeOf, rest } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'

const INDEX = '<!doctype html><title>demo</title>'
const SCRIPT = 'console.log("demo")'
const SECRET = 'outside the demo'
let baseDir: string
let demoDir: string

beforeAll(() => {
  baseDir = tempDir('parley-demo-dir-')
  demoDir = path.join(baseDir, 'demo')
  mkdirSync(path.join(demoDir, 'assets'), { recursive: true })
  writeFileSync(path.join(baseDir, 'secret.txt'), SECRET)
  writeFileSync(path.join(demoDir, 'index.html'), INDEX)
  writeFileSync(path.join(demoDir, 'assets', 'app.js'), SCRIPT)
})

afterAll(() => rmSync(baseDir, { recursive: true, force: true }))

describe('outside dev mode (PARLEY_JWT_SECRET)', () => {
  let s: TestServer
  beforeAll(async () => (s = await startServer({ demoDir })))
  afterAll(() => s.dispose())

  it('refuses POST /dev/token with 403 forbidden', async () => {
    const answer = await rest(s, 'POST', '/dev/token', { json: { userId: 'alice' } })
    expect(answer.status).toBe(403)
    expect(codeOf(answer)).toBe('forbidden')
  })

  it('does not serve the demo', async () => {
    for (const route of ['/', '/assets/app.js']) {
      const answer = await rest(s, 'GET', route)
      expect(answer.status, route).toBe(404)
      expect(codeOf(answer), route).toBe('not_found')
    }
  })
})

describe('dev mode', () => {
  let s: TestServer
  beforeAll(async () => (s = await startServer({ jwt: { kind: 'dev' }, demoDir })))
  afterAll(() => s.dispose())

  it('hands out a token for the user the page picked, which the server accepts', async () => {
    const answer = await rest<{ token: string }>(s, 'POST', '/dev/token', { json: { userId: 'alice', name: 'Alice' } })
    expect(answer.status).toBe(200)
    const claims = decodeJwt(answer.body.token)
    expect(claims).toMatchObject({ sub: 'alice', name: 'Alice', handle: 'alice', access: { '*': 'comment' } })
    const users = await rest<{ users: Array<{ id: string }> }>(s, 'GET', '/api/v1/users?subjectId=s1', { bearer: answer.body.token })
    expect(users.status).toBe(200)
    expect(users.body.users.map((u) => u.id)).toContain('alice')
  })

  it('refuses a bad user id, name or body with 400 invalid_request', async () => {
    for (const options of [{ json: { userId: 'a/b' } }, { json: { name: 'x' } }, { json: { userId: 'bob', name: '' } }, { raw: 'not json' }]) {
      const answer = await rest(s, 'POST', '/dev/token', options)
      expect(answer.status, JSON.stringify(options)).toBe(400)
      expect(codeOf(answer)).toBe('invalid_request')
    }
  })

  it('serves the built demo at / and its assets', async () => {
    const page = await fetch(`${s.server.httpUrl}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).toBe(INDEX)
    const script = await fetch(`${s.server.httpUrl}/assets/app.js`)
    expect(script.status).toBe(200)
    expect(await script.text()).toBe(SCRIPT)
    expect((await rest(s, 'GET', '/assets/missing.js')).status).toBe(404)
    expect((await rest(s, 'GET', '/health')).body).toEqual({ status: 'ok' })
  })

  it('serves nothing outside the demo directory', async () => {
    for (const route of ['/assets/..%2F..%2Fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/..%5C..%5Csecret.txt']) {
      const answer = await fetch(`${s.server.httpUrl}${route}`)
      expect(answer.status, route).not.toBe(200)
      expect(await answer.text(), route).not.toContain(SECRET)
    }
  })

  it('says how to build the demo when it is not built', async () => {
    const empty = await startServer({ jwt: { kind: 'dev' }, demoDir: path.join(baseDir, 'not-built') })
    try {
      const answer = await rest<{ error: { message: string } }>(empty, 'GET', '/')
      expect(answer.status).toBe(404)
      expect(codeOf(answer)).toBe('not_found')
      expect(answer.body.error.message).toContain('npm run build:demo')
    } finally {
      await empty.dispose()
    }
  })
})
