/** core/notifications/app-url.ts: a notification's link from the `PARLEY_APP_URL` template. */
import { describe, expect, it } from 'vitest'
import { checkAppUrl, notificationUrl } from '../../core/notifications/app-url.ts'

describe('PROTOCOL §Environment PARLEY_APP_URL', () => {
  it('fills every placeholder, URL-encoded, and leaves a missing thread or comment empty', () => {
    const template = 'https://app.example.com/s/{subjectId}?thread={threadId}&n={notificationId}#{commentId}'
    expect(notificationUrl(template, { id: 'm_1', subjectId: 'post:1', threadId: 't 1', commentId: 'c1' })).toBe(
      'https://app.example.com/s/post%3A1?thread=t%201&n=m_1#c1',
    )
    expect(notificationUrl(template, { id: 'm_1', subjectId: 's', threadId: null, commentId: null })).toBe('https://app.example.com/s/s?thread=&n=m_1#')
  })

  it('accepts http(s) templates with known placeholders only, with a message naming the problem', () => {
    expect(checkAppUrl('http://localhost:3000/{subjectId}').ok).toBe(true)
    expect(checkAppUrl('https://x/{user}')).toMatchObject({ ok: false, error: expect.stringContaining('unknown placeholder {user}') })
    expect(checkAppUrl('/relative/{subjectId}')).toMatchObject({ ok: false, error: expect.stringContaining('absolute URL') })
    expect(checkAppUrl('mailto:ops@example.com')).toMatchObject({ ok: false, error: expect.stringContaining('http') })
  })
})
