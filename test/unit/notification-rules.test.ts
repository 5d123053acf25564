/**
 * Who hears what (core/notifications/rules.ts), the deterministic ids and previews
 * (core/notifications/ids.ts) and the outbox's retry delays (core/notifications/outbox.ts).
 */
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import { ID_PATTERN, PREVIEW_LENGTH } from '../../protocol/index.ts'
import { ID_HASH_CHARS, mentionNotificationId, notificationEventId, preview, replyNotificationId } from '../../core/notifications/ids.ts'
import { OUTBOX_RETRY_BASE_MS, OUTBOX_RETRY_MAX_MS, retryDelay } from '../../core/notifications/outbox.ts'
import {
  CHANNELS,
  commentRecipients,
  MENTION_KIND,
  MENTION_PRIORITY,
  REPLY_KIND,
  REPLY_PRIORITY,
  replyRecipients,
  threadRecipients,
} from '../../core/notifications/rules.ts'

describe('PROTOCOL §Mentions and notifications: rules', () => {
  it('gives mentions priority high and replies normal, on the inbox channel', () => {
    expect([MENTION_KIND, MENTION_PRIORITY, REPLY_KIND, REPLY_PRIORITY]).toEqual(['mention', 'high', 'reply', 'normal'])
    expect(CHANNELS).toEqual(['inbox'])
  })

  it('tells a reply to the thread’s creator, comment authors and subscribers', () => {
    expect(replyRecipients({ authorId: 'ben', participants: ['ana', 'ben', 'cid'], subscribers: { dan: true }, mentioned: new Set() }).sort()).toEqual([
      'ana',
      'cid',
      'dan',
    ])
  })

  it('leaves out the author, those who muted the thread and those mentioned in the reply', () => {
    const recipients = replyRecipients({
      authorId: 'ben',
      participants: ['ana', 'ben', 'cid', 'eve'],
      subscribers: { ben: true, cid: false, dan: true, fay: false },
      mentioned: new Set(['eve', 'dan']),
    })
    expect(recipients).toEqual(['ana'])
  })

  it('tells each user once', () => {
    expect(replyRecipients({ authorId: 'x', participants: ['ana', 'ana'], subscribers: { ana: true }, mentioned: new Set() })).toEqual(['ana'])
  })

  const followers = { ana: 'host', ben: 'follower', cid: 'host', dan: 'follower', eve: 'host' } as const

  it('tells a new thread to hosts and followers, not its author, the muted or the mentioned', () => {
    const context = { authorId: 'cid', participants: ['cid'], subscribers: { dan: false }, mentioned: new Set(['eve']), followers }
    expect(threadRecipients(context).sort()).toEqual(['ana', 'ben'])
  })

  it('tells a comment to hosts who are not in its thread (neither participant nor subscriber), never followers', () => {
    const context = { authorId: 'ben', participants: ['ana', 'ben'], subscribers: { eve: true }, mentioned: new Set<string>(), followers }
    expect(commentRecipients(context)).toEqual(['cid'])
    expect(commentRecipients({ ...context, mentioned: new Set(['cid']) })).toEqual([])
    expect(commentRecipients({ ...context, subscribers: { eve: true, cid: false } })).toEqual([])
  })
})

describe('PROTOCOL §Inbox document as implemented: ids are deterministic', () => {
  it('gives the same key the same id, and different recipients, comments or threads different ids', () => {
    const mention = mentionNotificationId('s1', 'c1', 'ana')
    expect(mention).toBe(mentionNotificationId('s1', 'c1', 'ana'))
    expect(mention).toMatch(new RegExp(`^m_[A-Za-z0-9_-]{${ID_HASH_CHARS}}$`))
    expect(
      new Set([mention, mentionNotificationId('s1', 'c1', 'ben'), mentionNotificationId('s1', 'c2', 'ana'), mentionNotificationId('s2', 'c1', 'ana')]).size,
    ).toBe(4)
    const replies = replyNotificationId('s1', 't1', 'ana')
    expect(replies).toMatch(new RegExp(`^r_[A-Za-z0-9_-]{${ID_HASH_CHARS}}$`))
    expect(replies).not.toBe(replyNotificationId('s1', 't2', 'ana'))
    expect(notificationEventId('ana', replies, 1)).not.toBe(notificationEventId('ana', replies, 2))
  })

  it('does not let the parts run into each other', () => {
    expect(mentionNotificationId('s1', 'c1x', 'ana')).not.toBe(mentionNotificationId('s1c', '1x', 'ana'))
  })

  it('makes ids that are valid document-schema ids', () => {
    for (const id of [mentionNotificationId('s', 'c', 'u'), replyNotificationId('s', 't', 'u'), notificationEventId('u', 'n', 3)])
      expect(ID_PATTERN.test(id)).toBe(true)
  })
})

describe(`PROTOCOL §Inbox document as implemented: previews (at most ${PREVIEW_LENGTH} characters)`, () => {
  it('collapses whitespace and keeps short text whole', () => {
    expect(preview('  hello \n\n  world\t ')).toBe('hello world')
  })

  it('cuts long text with … at code points, never inside a surrogate pair', () => {
    const long = preview('x'.repeat(500))
    expect(Array.from(long)).toHaveLength(PREVIEW_LENGTH)
    expect(long.endsWith('…')).toBe(true)
    const emoji = preview('😀'.repeat(200))
    expect(Array.from(emoji)).toHaveLength(PREVIEW_LENGTH)
    expect(emoji).toBe(`${'😀'.repeat(PREVIEW_LENGTH - 1)}…`)
    expect(preview('😀'.repeat(PREVIEW_LENGTH))).toBe('😀'.repeat(PREVIEW_LENGTH))
  })

  it('reads only the start of a long text and agrees with collapsing the whole text first (seeded)', () => {
    const whole = (text: string) => {
      const points = Array.from(text.replace(/\s+/g, ' ').trim())
      return points.length <= PREVIEW_LENGTH ? points.join('') : `${points.slice(0, PREVIEW_LENGTH - 1).join('')}…`
    }
    const gen = prng.create(13)
    const alphabet = ['a', 'b', ' ', '\n', '\t', '😀', 'é', '\u00a0', '  ', '\ud83d', '\ude00']
    for (let i = 0; i < 500; i++) {
      const length = prng.uint32(gen, 0, PREVIEW_LENGTH + 20)
      const text = Array.from({ length }, () => prng.oneOf(gen, alphabet)).join('')
      expect(preview(text), JSON.stringify(text)).toBe(whole(text))
    }
    // Whitespace runs longer than what is read at once: the preview reads on until it has enough.
    for (let i = 0; i < 200; i++) {
      const pieces = Array.from({ length: prng.uint32(gen, 1, 300) }, () =>
        prng.bool(gen) ? prng.oneOf(gen, alphabet) : ' '.repeat(prng.uint32(gen, 1, 4 * PREVIEW_LENGTH)),
      )
      const text = pieces.join('')
      expect(preview(text), `run-padded text ${i}`).toBe(whole(text))
    }
    expect(preview(`${'x'.repeat(PREVIEW_LENGTH)}   \n`)).toBe('x'.repeat(PREVIEW_LENGTH))
    // 8 MB of text: collapsing all of it first took ~0.3 s; the preview needs its first few hundred characters.
    const huge = '@m00001 '.repeat(1_000_000)
    const started = performance.now()
    expect(preview(huge)).toBe(whole(huge.slice(0, 8 * PREVIEW_LENGTH)))
    expect(performance.now() - started).toBeLessThan(50)
  })
})

describe('PROTOCOL §Mentions and notifications: outbox retries after 500 ms × 2^attempts, at most 5 min', () => {
  it('doubles from the base and stops at the cap', () => {
    expect(OUTBOX_RETRY_BASE_MS).toBe(500)
    expect(OUTBOX_RETRY_MAX_MS).toBe(5 * 60_000)
    expect([0, 1, 2, 3, 4].map(retryDelay)).toEqual([500, 1_000, 2_000, 4_000, 8_000])
    expect(retryDelay(9)).toBe(256_000)
    expect(retryDelay(10)).toBe(OUTBOX_RETRY_MAX_MS)
    expect(retryDelay(1_000)).toBe(OUTBOX_RETRY_MAX_MS)
  })
})
