/**
 * protocol/names.ts (document names and ids), with protocol/roles.ts and the auth reason format of
 * protocol/errors.ts, in process.
 */
import { describe, expect, it } from 'vitest'
import {
  ErrorCode,
  ID_PATTERN,
  commentsDocumentName,
  feedDocumentName,
  formatAuthReason,
  highestRole,
  inboxDocumentName,
  isErrorCode,
  isRole,
  isValidId,
  parseAuthReason,
  parseDocumentName,
  roleAtLeast,
  userFeedId,
} from '../../protocol/index.ts'
import { echoedName, MAX_DOCUMENT_NAME_LENGTH } from '../../protocol/names.ts'

describe('PROTOCOL §Document names: the grammar', () => {
  it('has the documented id pattern', () => {
    expect(ID_PATTERN.source).toBe('^[A-Za-z0-9_.:@-]{1,128}$')
  })

  it.each(['a', 'A9', 'user_1', 'a.b', 'user:ana', 'ana@example.com', 'x-y', 'x'.repeat(128), '...', '@'])('accepts the id %j', (id) => {
    expect(isValidId(id)).toBe(true)
  })

  it.each(['', 'x'.repeat(129), 'a/b', 'a b', 'zoë', 'a\n', 'a#b', 'a?b', '小明', 'a*'])('refuses the id %j', (id) => {
    expect(isValidId(id)).toBe(false)
  })

  it.each([
    ['comments/post-1', { kind: 'comments', id: 'post-1' }],
    ['inbox/ana', { kind: 'inbox', id: 'ana' }],
    ['feed/user:ana', { kind: 'feed', id: 'user:ana' }],
    [`comments/${'x'.repeat(128)}`, { kind: 'comments', id: 'x'.repeat(128) }],
  ])('parses %s', (name, parsed) => {
    expect(parseDocumentName(name)).toEqual(parsed)
  })

  it.each(['comments', 'comments/', '/x', 'comments/a/b', 'other/x', 'Comments/x', `comments/${'x'.repeat(129)}`, 'inbox/a b', '', 'feed//x'])(
    'refuses the name %j',
    (name) => {
      expect(parseDocumentName(name)).toBeNull()
    },
  )

  it('builds names that parse back', () => {
    expect(commentsDocumentName('s1')).toBe('comments/s1')
    expect(inboxDocumentName('ana')).toBe('inbox/ana')
    expect(feedDocumentName('news')).toBe('feed/news')
    expect(userFeedId('ana')).toBe('user:ana')
    for (const name of [commentsDocumentName('s1'), inboxDocumentName('ana'), feedDocumentName(userFeedId('ana'))])
      expect(parseDocumentName(name)).not.toBeNull()
  })

  it('echoes names at most as long as the longest valid one, cut with … and never inside a surrogate pair', () => {
    const longest = `comments/${'x'.repeat(128)}`
    expect(MAX_DOCUMENT_NAME_LENGTH).toBe(longest.length)
    expect(echoedName(longest)).toBe(longest)
    expect(echoedName('x'.repeat(5_000_000))).toBe(`${'x'.repeat(MAX_DOCUMENT_NAME_LENGTH)}…`)
    const emoji = `${'x'.repeat(MAX_DOCUMENT_NAME_LENGTH - 1)}😀😀`
    expect(echoedName(emoji)).toBe(`${'x'.repeat(MAX_DOCUMENT_NAME_LENGTH - 1)}…`)
  })

  it('has no personal feed name for user ids longer than 123 characters', () => {
    expect(parseDocumentName(feedDocumentName(userFeedId('u'.repeat(123))))).not.toBeNull()
    expect(parseDocumentName(feedDocumentName(userFeedId('u'.repeat(124))))).toBeNull()
  })
})

describe('PROTOCOL §Auth, roles and membership: roles include the ones before', () => {
  it('orders read < comment < moderate', () => {
    expect(roleAtLeast('moderate', 'comment')).toBe(true)
    expect(roleAtLeast('comment', 'comment')).toBe(true)
    expect(roleAtLeast('read', 'comment')).toBe(false)
    expect(highestRole(['read', null, 'moderate', undefined, 'comment'])).toBe('moderate')
    expect(highestRole([null, undefined])).toBeNull()
    expect(isRole('moderate')).toBe(true)
    expect(isRole('admin')).toBe(false)
  })
})

describe('PROTOCOL §Authentication failures: reasons read "<code>: <text>"', () => {
  it('formats and parses back every code', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(parseAuthReason(formatAuthReason({ code, message: 'why: because' }))).toEqual({ code, message: 'why: because' })
    }
  })

  it('reads a bare code, and nothing from a reason without a known code', () => {
    expect(parseAuthReason('forbidden')).toEqual({ code: 'forbidden', message: '' })
    expect(parseAuthReason('permission-denied')).toBeNull()
    expect(parseAuthReason('nope: text')).toBeNull()
    expect(isErrorCode('write_rejected')).toBe(true)
    expect(isErrorCode('WriteRejected')).toBe(false)
  })
})
