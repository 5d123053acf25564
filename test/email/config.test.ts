/** Email configuration, SMTP answer mapping, unsubscribe key and kinds: fast unit tests. */
import { describe, expect, it } from 'vitest'
import { emailContent } from '../../core/email/template.ts'
import { kindsTarget, unsubscribeKinds, unsubscribeToken, verifyUnsubscribeToken } from '../../core/email/unsubscribe.ts'
import { loadConfig } from '../../server/config.ts'
import { emailConfig } from '../../server/email/config.ts'
import { unsubscribeKey } from '../../server/email/key.ts'
import { classifySmtpError } from '../../server/email/smtp.ts'

const SECRET = 'x'.repeat(32)

describe('email configuration', () => {
  it('is on with both SMTP_URL and EMAIL_FROM, off with neither, and names the missing or bad variable otherwise', () => {
    expect(emailConfig({})).toEqual({ ok: true, value: undefined })
    expect(emailConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465', EMAIL_FROM: 'Parley <n@example.com>' })).toEqual({
      ok: true,
      value: { smtpUrl: 'smtps://u:p@mail.example.com:465', from: 'Parley <n@example.com>' },
    })
    const error = (e: Record<string, string>) => {
      const result = emailConfig(e)
      return result.ok ? null : result.error
    }
    expect(error({ SMTP_URL: 'smtp://mail.example.com' })).toMatch(/^invalid EMAIL_FROM: email needs SMTP_URL and EMAIL_FROM/)
    expect(error({ EMAIL_FROM: 'n@example.com' })).toMatch(/^invalid SMTP_URL: /)
    expect(error({ SMTP_URL: 'smtp://', EMAIL_FROM: 'n@example.com' })).toMatch(/^invalid SMTP_URL: /)
    expect(error({ SMTP_URL: 'smtp://mail.example.com', EMAIL_FROM: 'not an address' })).toMatch(/^invalid EMAIL_FROM: /)
    expect(error({ SMTP_URL: 'smtp://mail.example.com', EMAIL_FROM: 'a@example.com, b@example.com' })).toMatch(/^invalid EMAIL_FROM: /)
  })

  it('goes through loadConfig: one line naming the variable, a key for unsubscribe links, the public URL', () => {
    const base = { PARLEY_JWT_SECRET: SECRET }
    const on = loadConfig({ ...base, SMTP_URL: 'smtp://mail.example.com:25', EMAIL_FROM: 'n@example.com', PARLEY_PUBLIC_URL: 'https://parley.example.com/' })
    expect(on.ok && on.value.email).toEqual({ smtpUrl: 'smtp://mail.example.com:25', from: 'n@example.com' })
    expect(on.ok && on.value.publicUrl).toBe('https://parley.example.com')
    expect(loadConfig({ ...base, SMTP_URL: 'http://mail.example.com', EMAIL_FROM: 'n@example.com' })).toEqual({
      ok: false,
      error: 'invalid SMTP_URL: must start with smtp:// or smtps://',
    })
    expect(loadConfig({ ...base, SMTP_URL: 'smtp://mail.example.com' })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid EMAIL_FROM/) })
    const jwks = { PARLEY_JWKS_URL: 'https://id.example.com/jwks.json', SMTP_URL: 'smtp://mail.example.com', EMAIL_FROM: 'n@example.com' }
    expect(loadConfig(jwks)).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid SMTP_URL: email needs PARLEY_API_KEY/) })
    expect(loadConfig({ ...jwks, PARLEY_API_KEY: 'k'.repeat(20) }).ok).toBe(true)
    expect(loadConfig({ PARLEY_PUBLIC_URL: 'ftp://x' })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid PARLEY_PUBLIC_URL/) })
  })
})

describe('SMTP answers', () => {
  it('maps 5xx to a refusal for good, 4xx and connection failures to a retry', () => {
    expect(classifySmtpError(Object.assign(new Error('x'), { responseCode: 550, response: '550 mailbox unavailable' }))).toEqual({
      status: 'failed',
      reason: '550 mailbox unavailable',
    })
    expect(classifySmtpError(Object.assign(new Error('x'), { responseCode: 451, response: '451 try later' }))).toEqual({
      status: 'retry',
      reason: '451 try later',
    })
    expect(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toEqual({
      status: 'retry',
      reason: 'ESOCKET: connect ECONNREFUSED',
    })
    expect(classifySmtpError('odd')).toEqual({ status: 'retry', reason: 'odd' })
  })
})

describe('unsubscribe keys and kinds', () => {
  it('derives one key per secret (API key first), none without a secret', () => {
    const fromApi = unsubscribeKey({ apiKey: 'a'.repeat(20), jwtSecret: SECRET })
    expect(fromApi).toEqual(unsubscribeKey({ apiKey: 'a'.repeat(20) }))
    expect(fromApi).not.toEqual(unsubscribeKey({ jwtSecret: SECRET }))
    expect(Buffer.from(fromApi!).toString('utf8')).not.toContain('aaaa')
    expect(unsubscribeKey({ devSecret: 'dev' })).toBeInstanceOf(Uint8Array)
    expect(unsubscribeKey({})).toBeUndefined()
  })

  it('names every kind of a digest once, and the token carries them', () => {
    const kind = kindsTarget(['reply', 'mention', 'reply'])
    expect(kind).toBe('mention,reply')
    const key = unsubscribeKey({ apiKey: 'a'.repeat(20) })!
    const target = verifyUnsubscribeToken(key, unsubscribeToken(key, { userId: 'ben', kind }))
    expect(unsubscribeKinds(target?.kind ?? '')).toEqual(['mention', 'reply'])
  })

  it('ends both parts with the stop link when there is one, and only an http(s) one', () => {
    const notification = {
      id: 'n1',
      userId: 'ben',
      kind: 'mention',
      priority: 'high' as const,
      subjectId: 's',
      threadId: 't',
      commentId: 'c',
      actors: ['ana'],
      activityCount: 1,
      preview: 'hi',
      createdAt: 1,
      notifiedAt: 1,
      readAt: null,
      seenAt: null,
      archivedAt: null,
      version: 1,
    }
    const content = emailContent([{ notification, names: ['Ana'], url: undefined }], {
      unsubscribeUrl: 'https://p.example.com/api/v1/unsubscribe?token=a.b&x=1',
    })
    expect(content.text).toMatch(/Stop these emails: https:\/\/p\.example\.com\/api\/v1\/unsubscribe\?token=a\.b&x=1$/)
    expect(content.html).toContain('<a href="https://p.example.com/api/v1/unsubscribe?token=a.b&#38;x=1">Stop these emails</a>')
    expect(emailContent([{ notification, names: ['Ana'], url: undefined }], { unsubscribeUrl: 'javascript:x' }).html).not.toContain('Stop')
  })
})
