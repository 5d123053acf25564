/**
 * Contract additions, "Delivery" and "Devices", end to end against a local APNs peer (HTTP/2 +
 * TLS): a mention reaches the recipient's device once with its title, badge and collapse id; a
 * dead token removes the device; a 500 or 429 is retried and delivered once; a user active on the
 * subject, or who turned push off for the kind, is skipped with the reason; every (notification,
 * device) has a delivery status.
 */
import * as prng from 'lib0/prng'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import webpush from 'web-push'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'
import type { DeliveryRecord } from '../../core/delivery/deliveries.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { startWebPushPeer, type WebPushPeer } from '../helpers/webpush-peer.ts'
import { fcmErrorBody, startFcmPeer, type FcmPeer } from '../helpers/fcm-peer.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

const BEN_PHONE = 'b0b0b0'
const VAPID = webpush.generateVAPIDKeys()
const BEN_OLD_PHONE = 'dead00'

describe('push over APNs', () => {
  let peer: ApnsPeer
  let world: World
  let webPeer: WebPushPeer
  let fcmPeer: FcmPeer
  beforeEach(async () => {
    peer = await startApnsPeer()
    webPeer = await startWebPushPeer()
    fcmPeer = await startFcmPeer()
    const keyFile = path.join(tempDir('parley-apns-'), 'key.p8')
    writeFileSync(keyFile, peer.key)
    const accountFile = path.join(path.dirname(keyFile), 'account.json')
    writeFileSync(accountFile, JSON.stringify(fcmPeer.account))
    world = await startWorld({
      push: {
        apns: { keyFile, keyId: peer.keyId, teamId: peer.teamId, topic: peer.topic, production: false, host: '127.0.0.1', port: peer.port },
        webPush: { ...VAPID, subject: 'mailto:ops@example.com' },
        fcm: { serviceAccountFile: accountFile, endpoint: fcmPeer.origin },
      },
      delivery: { ca: [peer.ca, webPeer.ca, fcmPeer.ca] },
    })
    await registerSubject(world.s, 'post-1')
  })
  afterEach(async () => {
    await world.dispose()
    await peer.close()
    await webPeer.close()
    await fcmPeer.close()
  })

  const register = async (userId: string, token: string) =>
    (await rest<{ id: string }>(world.s, 'POST', '/api/v1/devices', { bearer: await world.s.token(userId), json: { platform: 'apns', token } })).body.id
  const deliveries = async (userId: string): Promise<DeliveryRecord[]> => {
    const [note] = await world.notifications(userId)
    return note ? world.s.server.storage.deliveries.ofNotification(userId, note.id) : []
  }
  const mentionBen = async (text: string) => {
    const ana = world.clients.find((c) => c.provider.configuration.name === 'comments/post-1') ?? (await world.open('post-1', 'ana'))
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text }, { text: '@Ben', mention: 'ben' }])
  }

  it('pushes a mention once to each live device; a dead token removes its device', async () => {
    const phone = await register('ben', BEN_PHONE)
    const old = await register('ben', BEN_OLD_PHONE)
    peer.answer = (request) => (request.token === BEN_OLD_PHONE ? { status: 410, reason: 'Unregistered' } : { status: 200 })
    await mentionBen('look ')
    await waitFor(
      async () => (await deliveries('ben')).length === 2 && (await deliveries('ben')).every((d) => d.status !== 'failed'),
      'both deliveries settled',
    )
    const [note] = await world.notifications('ben')
    const toPhone = peer.requests.filter((r) => r.token === BEN_PHONE)
    expect(toPhone).toHaveLength(1)
    expect(toPhone[0]?.headers).toMatchObject({ 'apns-collapse-id': note?.id, 'apns-priority': '10', 'apns-push-type': 'alert' })
    expect(toPhone[0]?.payload.aps).toMatchObject({ alert: { title: 'ANA mentioned you', body: 'look @Ben' }, badge: 1, 'thread-id': note?.threadId })
    const statuses = Object.fromEntries((await deliveries('ben')).map((d) => [d.deviceId, [d.status, d.attempts]]))
    expect(statuses).toEqual({ [phone]: ['sent', 1], [old]: ['dead', 1] })
    const devices = await rest<{ devices: Array<{ id: string; lastSentAt: number | null }> }>(world.s, 'GET', '/api/v1/devices', {
      bearer: await world.s.token('ben'),
    })
    expect(devices.body.devices.map((d) => d.id)).toEqual([phone])
    expect(devices.body.devices[0]?.lastSentAt).not.toBeNull()
  })

  it('retries a 500 and a 429 and delivers once', async () => {
    await register('ben', BEN_PHONE)
    let failures = 2
    peer.answer = () =>
      failures-- > 0 ? (failures === 1 ? { status: 500, reason: 'InternalServerError' } : { status: 429, reason: 'TooManyRequests' }) : { status: 200 }
    await mentionBen('again ')
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'sent', 'delivered after two retries', 15_000)
    expect(peer.requests).toHaveLength(3)
    expect((await deliveries('ben'))[0]).toMatchObject({ status: 'sent', attempts: 3, reason: null })
  }, 20_000)

  it('skips a user who turned push off for the kind, and one active on the subject', async () => {
    await register('ben', BEN_PHONE)
    const off = await rest(world.s, 'PUT', '/api/v1/preferences', { bearer: await world.s.token('ben'), json: { kinds: { mention: { push: false } } } })
    expect(off.status).toBe(200)
    await mentionBen('quiet ')
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'skipped', 'skipped: push off')
    expect((await deliveries('ben'))[0]?.reason).toBe('channel_off')

    await rest(world.s, 'PUT', '/api/v1/preferences', { bearer: await world.s.token('ben'), json: { kinds: { mention: { push: true } } } })
    const ben = await world.open('post-1', 'ben')
    ben.provider.setAwarenessField('user', { id: 'ben', name: 'Ben' })
    ben.provider.setAwarenessField('status', 'active')
    await waitFor(async () => world.s.server.presence.isPresent('ben', 'comments/post-1'), 'ben present')
    await mentionBen('here ')
    await waitFor(async () => (await world.notifications('ben')).length === 2, 'the second mention')
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'skipped', 'skipped: present')
    expect((await deliveries('ben'))[0]?.reason).toBe('present')
    expect(peer.requests).toHaveLength(0)

    // Once gone, ben is pushed again.
    ben.destroy()
    await waitFor(async () => !(await world.s.server.presence.isPresent('ben', 'comments/post-1')), 'ben gone')
    await mentionBen('gone ')
    await waitFor(async () => (await world.notifications('ben')).length === 3, 'the third mention')
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'sent', 'sent once ben left')
    expect(peer.requests).toHaveLength(1)
  })

  it('shows deliveries to the owner and dead ones to the backend, which may retry one', async () => {
    const phone = await register('ben', BEN_PHONE)
    peer.answer = () => ({ status: 400, reason: 'PayloadTooLarge' })
    await mentionBen('too long ')
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'dead', 'dead at once: a refusal for good')
    const [note] = await world.notifications('ben')
    const owner = await rest<{ deliveries: unknown[] }>(world.s, 'GET', `/api/v1/notifications/${note?.id}/deliveries`, { bearer: await world.s.token('ben') })
    expect(owner.body.deliveries).toEqual([
      { channel: 'push', deviceId: phone, status: 'dead', reason: 'PayloadTooLarge', attempts: 1, updatedAt: expect.any(Number) },
    ])
    expect((await rest(world.s, 'GET', `/api/v1/notifications/${note?.id}/deliveries`, { bearer: await world.s.token('ana') })).status).toBe(404)
    const dead = await rest<{ deliveries: Array<{ id: string; userId: string; notificationId: string }>; nextCursor: string | null }>(
      world.s,
      'GET',
      '/api/v1/deliveries?status=dead',
      { bearer: TEST_API_KEY },
    )
    expect(dead.body.deliveries).toMatchObject([{ userId: 'ben', notificationId: note?.id, status: 'dead' }])
    expect((await rest(world.s, 'GET', '/api/v1/deliveries?status=dead', { bearer: await world.s.token('ben') })).status).toBe(401)

    peer.answer = () => ({ status: 200 })
    const retried = await rest(world.s, 'POST', `/api/v1/deliveries/${dead.body.deliveries[0]?.id}/retry`, { bearer: TEST_API_KEY })
    expect(retried.status).toBe(202)
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'sent', 'sent after the retry')
    expect(peer.requests).toHaveLength(2)
    expect((await rest(world.s, 'POST', '/api/v1/deliveries/v_unknown/retry', { bearer: TEST_API_KEY })).status).toBe(404)
  })

  it('pushes to Web Push subscriptions alike, decrypted by the push service; a 410 removes the subscription', async () => {
    const token = await world.s.token('ben')
    const laptop = (
      await rest<{ id: string }>(world.s, 'POST', '/api/v1/devices', {
        bearer: token,
        json: { platform: 'webpush', subscription: webPeer.subscription('laptop') },
      })
    ).body.id
    await rest(world.s, 'POST', '/api/v1/devices', { bearer: token, json: { platform: 'webpush', subscription: webPeer.subscription('old-browser') } })
    webPeer.answer = (request) => (request.name === 'old-browser' ? { status: 410 } : { status: 201 })
    await mentionBen('web ')
    await waitFor(async () => (await deliveries('ben')).length === 2 && (await deliveries('ben')).every((d) => d.status !== 'failed'), 'both settled')
    const [note] = await world.notifications('ben')
    const toLaptop = webPeer.requests.filter((r) => r.name === 'laptop')
    expect(toLaptop).toHaveLength(1)
    expect(toLaptop[0]?.authError).toBeNull()
    expect(toLaptop[0]?.headers).toMatchObject({ urgency: 'high', topic: note?.id })
    expect(toLaptop[0]?.payload).toMatchObject({ title: 'ANA mentioned you', body: 'web @Ben', notificationId: note?.id, badge: 1 })
    const devices = await rest<{ devices: Array<{ id: string }> }>(world.s, 'GET', '/api/v1/devices', { bearer: token })
    expect(devices.body.devices.map((d) => d.id)).toEqual([laptop])
  })

  it('pushes to FCM devices alike; UNREGISTERED removes one, a payload error keeps it', async () => {
    const token = await world.s.token('ben')
    const register = async (fcmToken: string) =>
      (await rest<{ id: string }>(world.s, 'POST', '/api/v1/devices', { bearer: token, json: { platform: 'fcm', token: fcmToken } })).body.id
    const pixel = await register('pixel')
    await register('old-phone')
    fcmPeer.answer = (send) => (send.token === 'old-phone' ? { status: 404, body: fcmErrorBody('NOT_FOUND', 'UNREGISTERED') } : { status: 200 })
    await mentionBen('fcm ')
    await waitFor(async () => (await deliveries('ben')).length === 2 && (await deliveries('ben')).every((d) => d.status !== 'failed'), 'both settled')
    const toPixel = fcmPeer.sends.filter((s) => s.token === 'pixel')
    expect(toPixel).toHaveLength(1)
    expect(toPixel[0]?.message).toMatchObject({ notification: { title: 'ANA mentioned you', body: 'fcm @Ben' }, android: { priority: 'HIGH' } })
    expect(fcmPeer.tokenRequests).toEqual([{ ok: true, error: null }])
    const devices = await rest<{ devices: Array<{ id: string }> }>(world.s, 'GET', '/api/v1/devices', { bearer: token })
    expect(devices.body.devices.map((d) => d.id)).toEqual([pixel])
  })

  it('sends the first reply of a digest window at once, and what came later as one summary at its end', async () => {
    await register('ben', BEN_PHONE)
    const window = await rest(world.s, 'PUT', '/api/v1/preferences', { bearer: await world.s.token('ben'), json: { digestSeconds: 2 } })
    expect(window.status).toBe(200)
    const [ana, ben] = [await world.open('post-1', 'ana'), await world.open('post-1', 'ben')]
    const one = createThread({ doc: ben.doc, userId: 'ben' }, 'first topic')
    const two = createThread({ doc: ben.doc, userId: 'ben' }, 'second topic')
    await waitFor(() => threadsMap(ana.doc).has(one.threadId) && threadsMap(ana.doc).has(two.threadId), 'both threads at ana')
    ben.destroy()
    reply({ doc: ana.doc, userId: 'ana' }, one.threadId, 'a first answer')
    await waitFor(() => peer.requests.length === 1, 'the first reply pushed at once')
    const sentAt = Date.now()
    reply({ doc: ana.doc, userId: 'ana' }, one.threadId, 'a second answer')
    reply({ doc: ana.doc, userId: 'ana' }, two.threadId, 'an answer elsewhere')
    await waitFor(async () => (await world.notifications('ben')).filter((n) => n.kind === 'reply').length === 2, 'two reply notifications')
    await waitFor(() => peer.requests.length === 2, 'the summary at the window’s end', 10_000)
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_500)
    expect(peer.requests[0]?.payload.aps.alert).toEqual({ title: 'ANA replied', body: 'a first answer' })
    expect(peer.requests[1]?.payload.aps.alert).toEqual({ title: '3 new replies', body: 'an answer elsewhere' })
    // The peer sees the summary before the server records its answer: wait for both records to settle.
    const statuses = async () =>
      (await Promise.all((await world.notifications('ben')).map((n) => world.s.server.storage.deliveries.ofNotification('ben', n.id)))).flat()
    await waitFor(async () => (await statuses()).filter((d) => d.reason === 'digest').length === 2, 'both digest records written')
    expect((await statuses()).map((d) => [d.status, d.reason])).toEqual([
      ['sent', 'digest'],
      ['sent', 'digest'],
    ])
  }, 20_000)

  it('with 20% of requests answered 500 or 429 and some tokens dead: every live device gets each notification once, dead devices go', async () => {
    // Seeded failures, so a run replays exactly.
    const gen = prng.create(7)
    const random = () => prng.real53(gen)
    const users = ['ben', 'cid', 'dan', 'zoe', 'ming', 'ex']
    const tokens = new Map(users.map((u, i) => [u, `a${i}`]))
    for (const [u, token] of tokens) await register(u, token)
    await register('dan', 'dead01')
    peer.answer = (request) => {
      if (request.token === 'dead01') return { status: 410, reason: 'Unregistered' }
      const r = random()
      return r < 0.1 ? { status: 500, reason: 'InternalServerError' } : r < 0.2 ? { status: 429, reason: 'TooManyRequests', retryAfter: 1 } : { status: 200 }
    }
    const ana = await world.open('post-1', 'ana')
    for (let i = 0; i < 5; i++) createThread({ doc: ana.doc, userId: 'ana' }, [{ text: `round ${i} ` }, ...users.map((u) => ({ text: '@x ', mention: u }))])
    const expected = users.length * 5
    const sent = () => peer.requests.filter((r) => r.answered === 200)
    await waitFor(() => new Set(sent().map((r) => `${r.token}:${r.headers['apns-collapse-id']}`)).size === expected, 'every notification delivered', 50_000)
    expect(sent()).toHaveLength(expected)
    const devices = await rest<{ devices: Array<{ id: string }> }>(world.s, 'GET', '/api/v1/devices', { bearer: await world.s.token('dan') })
    expect(devices.body.devices).toHaveLength(1)
    expect(peer.requests.filter((r) => r.answered !== 200 && r.token !== 'dead01').length).toBeGreaterThan(0)
  }, 60_000)
})
