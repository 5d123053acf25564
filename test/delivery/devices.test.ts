/**
 * Contract v1 and additions, "Devices": POST /api/v1/devices is idempotent per token (the same id
 * again), GET lists without tokens, DELETE removes one of the caller's own; at most 20 per user
 * (the oldest replaced); invalid registrations are 400 invalid_request. Both backends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_DEVICES_PER_USER } from '../../core/delivery/devices.ts'
import { BACKENDS } from '../access/backends.ts'
import { codeOf, rest } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'

const SUBSCRIPTION = {
  endpoint: 'https://push.example.com/send/abc',
  keys: { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' },
}

describe.each(BACKENDS)('devices ($name)', (backend) => {
  let s: TestServer
  afterEach(async () => {
    await s.dispose()
  })

  it('registers idempotently, lists without tokens, removes only one’s own', async () => {
    s = await backend.startServer({})
    const ana = await s.token('ana')
    const register = (json: unknown, bearer = ana) => rest<{ id: string }>(s, 'POST', '/api/v1/devices', { bearer, json })
    const apns = await register({ platform: 'apns', token: 'a1b2c3' })
    expect(apns.status).toBe(201)
    expect((await register({ platform: 'apns', token: 'a1b2c3' })).body.id).toBe(apns.body.id)
    const fcm = await register({ platform: 'fcm', token: 'fcm-token:1' })
    const web = await register({ platform: 'webpush', subscription: SUBSCRIPTION })
    // New keys for the same endpoint: the same device.
    const rekeyed = await register({ platform: 'webpush', subscription: { ...SUBSCRIPTION, keys: { ...SUBSCRIPTION.keys, auth: 'bmV3LWF1dGg' } } })
    expect(rekeyed.body.id).toBe(web.body.id)
    // Another user's same token is another device.
    expect((await register({ platform: 'apns', token: 'a1b2c3' }, await s.token('ben'))).body.id).not.toBe(apns.body.id)

    const listed = await rest<{ devices: Array<Record<string, unknown>> }>(s, 'GET', '/api/v1/devices', { bearer: ana })
    expect(listed.body.devices.map((d) => d.id)).toEqual([apns.body.id, fcm.body.id, web.body.id])
    expect(listed.body.devices[0]).toEqual({ id: apns.body.id, platform: 'apns', createdAt: expect.any(Number), lastSentAt: null })
    expect(JSON.stringify(listed.body)).not.toContain('a1b2c3')

    expect((await rest(s, 'DELETE', `/api/v1/devices/${apns.body.id}`, { bearer: await s.token('ben') })).status).toBe(404)
    expect((await rest(s, 'DELETE', `/api/v1/devices/${apns.body.id}`, { bearer: ana })).status).toBe(204)
    expect(codeOf(await rest(s, 'DELETE', `/api/v1/devices/${apns.body.id}`, { bearer: ana }))).toBe('not_found')
  })

  it(`keeps at most ${MAX_DEVICES_PER_USER} per user, replacing the oldest, and refuses invalid registrations`, async () => {
    s = await backend.startServer({})
    const ana = await s.token('ana')
    const ids: string[] = []
    for (let i = 0; i <= MAX_DEVICES_PER_USER; i++) {
      ids.push((await rest<{ id: string }>(s, 'POST', '/api/v1/devices', { bearer: ana, json: { platform: 'fcm', token: `token-${i}` } })).body.id)
    }
    const listed = await rest<{ devices: Array<{ id: string }> }>(s, 'GET', '/api/v1/devices', { bearer: ana })
    expect(listed.body.devices.map((d) => d.id)).toEqual(ids.slice(1))

    for (const json of [
      {},
      { platform: 'apns', token: 'not hex' },
      { platform: 'apns', token: '' },
      { platform: 'fcm', token: 'x'.repeat(4097) },
      { platform: 'fcm', token: 'x', extra: 1 },
      { platform: 'sms', token: 'x' },
      { platform: 'webpush', subscription: { ...SUBSCRIPTION, endpoint: 'http://push.example.com/x' } },
      { platform: 'webpush', subscription: { ...SUBSCRIPTION, keys: { p256dh: 'not base64!', auth: 'x' } } },
      { platform: 'webpush', token: 'x' },
    ]) {
      const answer = await rest(s, 'POST', '/api/v1/devices', { bearer: ana, json })
      expect(answer.status, JSON.stringify(json)).toBe(400)
      expect(codeOf(answer)).toBe('invalid_request')
    }
  })
})
