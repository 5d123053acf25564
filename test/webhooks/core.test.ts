/** The webhook domain rules (core/webhooks/): signatures, keys, schedule, Retry-After, ordering keys. */
import { describe, expect, it } from 'vitest'
import { createHmac } from 'node:crypto'
import { parleySignature, standardSignature, standardWebhooksKey, verifyParleySignature, webhookHeaders } from '../../core/webhooks/signing.ts'
import { classifyAnswer, DEFAULT_WEBHOOK_SCHEDULE_MS, nextAttemptAt, parseRetryAfter, MAX_RETRY_AFTER_MS } from '../../core/webhooks/schedule.ts'
import { webhookBody, webhookSubject } from '../../core/webhooks/events.ts'
import type { ParleyEvent } from '../../core/events.ts'

describe('webhook signatures', () => {
  it('signs "<t>.<body>" in hex (contract v1) and "<id>.<t>.<body>" in base64 (Standard Webhooks)', () => {
    const body = '{"id":"e"}'
    expect(parleySignature('s3cret', 100, body)).toBe(`t=100,v1=${createHmac('sha256', 's3cret').update(`100.${body}`).digest('hex')}`)
    expect(standardSignature('s3cret', 'e', 100, body)).toBe(`v1,${createHmac('sha256', 's3cret').update(`e.100.${body}`).digest('base64')}`)
    expect(webhookHeaders('s3cret', 'e', 100, body)).toMatchObject({ 'webhook-id': 'e', 'webhook-timestamp': '100' })
  })

  it('uses the base64 part of a whsec_ secret as the key, else the UTF-8 bytes', () => {
    expect(standardWebhooksKey(`whsec_${Buffer.from([1, 2, 3]).toString('base64')}`)).toEqual(Buffer.from([1, 2, 3]))
    expect(standardWebhooksKey('plain')).toEqual(Buffer.from('plain', 'utf8'))
  })

  it('verifies a Parley-Signature, refusing a forged one and one older than 5 minutes', () => {
    const header = parleySignature('k', 1000, 'b')
    expect(verifyParleySignature('k', header, 'b', 1000)).toEqual({ ok: true })
    expect(verifyParleySignature('other', header, 'b', 1000)).toEqual({ ok: false, reason: 'mismatch' })
    expect(verifyParleySignature('k', header, 'b', 1000 + 301)).toEqual({ ok: false, reason: 'too_old' })
    expect(verifyParleySignature('k', 'nonsense', 'b', 1000)).toEqual({ ok: false, reason: 'malformed' })
  })
})

describe('webhook schedule', () => {
  it('follows the Svix-like schedule, then gives up', () => {
    expect(DEFAULT_WEBHOOK_SCHEDULE_MS).toHaveLength(8)
    expect(nextAttemptAt(DEFAULT_WEBHOOK_SCHEDULE_MS, 1, 0, null)).toBe(5_000)
    expect(nextAttemptAt(DEFAULT_WEBHOOK_SCHEDULE_MS, 2, 0, null)).toBe(300_000)
    expect(nextAttemptAt(DEFAULT_WEBHOOK_SCHEDULE_MS, 8, 0, null)).toBeNull()
    expect(nextAttemptAt(DEFAULT_WEBHOOK_SCHEDULE_MS, 1, 0, 60_000)).toBe(60_000)
  })

  it('classifies answers and honours Retry-After only on 429 and 503', () => {
    expect(classifyAnswer(204, null, 0)).toEqual({ kind: 'sent' })
    expect(classifyAnswer(410, null, 0)).toEqual({ kind: 'gone' })
    expect(classifyAnswer(500, '30', 0)).toEqual({ kind: 'retry', retryAfterMs: null })
    expect(classifyAnswer(429, '30', 0)).toEqual({ kind: 'retry', retryAfterMs: 30_000 })
    expect(classifyAnswer(503, new Date(10_000).toUTCString(), 0)).toEqual({ kind: 'retry', retryAfterMs: 10_000 })
    expect(classifyAnswer(null, null, 0)).toEqual({ kind: 'retry', retryAfterMs: null })
    expect(parseRetryAfter('99999999', 0)).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('soon', 0)).toBeNull()
  })
})

describe('webhook events', () => {
  const event = <T extends ParleyEvent>(e: T) => e
  it('orders by subject, or by user for user-level events, and sends exactly { id, type, createdAt, data }', () => {
    const resolved = event({ id: 'e1', type: 'thread.resolved', createdAt: 5, data: { subjectId: 's1', threadId: 't', userId: null } })
    expect(webhookSubject(resolved)).toBe('subject:s1')
    expect(JSON.parse(webhookBody(resolved))).toEqual({
      id: 'e1',
      type: 'thread.resolved',
      createdAt: 5,
      data: { subjectId: 's1', threadId: 't', userId: null },
    })
  })
})
