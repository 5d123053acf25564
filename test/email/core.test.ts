/** Email building blocks (core/email/): escaped templates and signed one-click unsubscribe tokens. */
import { describe, expect, it } from 'vitest'
import { emailContent, escapeHtml, EMAIL_PREVIEW_CHARS, type EmailItem } from '../../core/email/template.ts'
import { unsubscribeToken, verifyUnsubscribeToken } from '../../core/email/unsubscribe.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'

function item(kind: string, preview: string, names: string[], url?: string): EmailItem {
  const notification: NotificationRecord = {
    id: `n_${kind}`,
    userId: 'ana',
    kind,
    priority: 'normal',
    subjectId: 'doc1',
    threadId: 't1',
    commentId: 'c1',
    actors: names.map((_, i) => `u${i}`),
    activityCount: names.length,
    preview,
    createdAt: 1,
    notifiedAt: 1,
    readAt: null,
    seenAt: null,
    archivedAt: null,
    version: 1,
  }
  return { notification, names, url }
}

describe('email templates', () => {
  it('escapes user text in the HTML part and keeps it as written in the text part', () => {
    const content = emailContent([item('mention', '<script>alert(1)</script> & "you"', ['<b>Eve</b>'], 'https://app.example.com/s/doc1?a=1&b=2')])
    expect(content.html).not.toContain('<script>')
    expect(content.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;you&#34;')
    expect(content.html).toContain('&#60;b&#62;Eve&#60;/b&#62; mentioned you')
    expect(content.html).toContain('href="https://app.example.com/s/doc1?a=1&#38;b=2"')
    expect(content.text).toContain('<script>alert(1)</script>')
    expect(content.subject).toBe('<b>Eve</b> mentioned you in doc1')
  })

  it('makes one digest of several notifications, drops links that are not http(s), and shortens long previews', () => {
    const content = emailContent([
      item('reply', 'one', ['Ben', 'Cy', 'Di']),
      item('reaction', 'x'.repeat(EMAIL_PREVIEW_CHARS + 50), ['Ben'], 'javascript:alert(1)'),
    ])
    expect(content.subject).toBe('2 new notifications in doc1')
    expect(content.text).toContain('Ben and 2 others replied')
    expect(content.html).not.toContain('javascript:')
    expect(content.text).toContain(`${'x'.repeat(EMAIL_PREVIEW_CHARS - 1)}…`)
    expect(() => emailContent([])).toThrow()
    expect(escapeHtml(`'`)).toBe('&#39;')
  })
})

describe('unsubscribe tokens', () => {
  const key = 'server-unsubscribe-key-0123456789abcdef'
  it('round-trips a signed target and refuses forged, altered or foreign tokens', () => {
    const token = unsubscribeToken(key, { userId: 'ana', kind: 'reply' })
    expect(verifyUnsubscribeToken(key, token)).toEqual({ userId: 'ana', kind: 'reply' })
    expect(verifyUnsubscribeToken('another key', token)).toBeNull()
    const [, signature] = token.split('.')
    const altered = `${Buffer.from(JSON.stringify({ u: 'ben', k: 'reply' })).toString('base64url')}.${signature}`
    expect(verifyUnsubscribeToken(key, altered)).toBeNull()
    expect(verifyUnsubscribeToken(key, 'garbage')).toBeNull()
    expect(verifyUnsubscribeToken(key, `${token}.extra`)).toBeNull()
    expect(verifyUnsubscribeToken(key, 'a'.repeat(600))).toBeNull()
  })
})
