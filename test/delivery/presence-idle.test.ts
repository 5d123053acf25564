/**
 * Contract additions, "Delivery": only an **active** awareness state on `comments/<subjectId>`
 * makes a user present. Ben connected but idle is pushed; once active he is skipped with reason
 * `present`; a push for another subject still reaches him. Local APNs peer (HTTP/2 + TLS).
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import type { DeliveryRecord } from '../../core/delivery/deliveries.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { rest } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

describe('present means active', () => {
  let peer: ApnsPeer
  let world: World
  beforeEach(async () => {
    peer = await startApnsPeer()
    const keyFile = path.join(tempDir('parley-apns-'), 'key.p8')
    writeFileSync(keyFile, peer.key)
    world = await startWorld({
      push: {
        apns: { keyFile, keyId: peer.keyId, teamId: peer.teamId, topic: peer.topic, production: false, host: '127.0.0.1', port: peer.port },
        webPush: undefined,
        fcm: undefined,
      },
      delivery: { ca: [peer.ca] },
    })
    await registerSubject(world.s, 'post-1')
    await registerSubject(world.s, 'post-2')
  })
  afterEach(async () => {
    await world.dispose()
    await peer.close()
  })

  /** The delivery of ben's newest notification, once settled. */
  const newestDelivery = async (count: number): Promise<DeliveryRecord | undefined> => {
    const notes = await world.notifications('ben')
    if (notes.length < count) return undefined
    const [delivery] = await world.s.server.storage.deliveries.ofNotification('ben', notes[0]!.id)
    return delivery && delivery.status !== 'pending' && delivery.status !== 'failed' ? delivery : undefined
  }

  it('pushes a user who is connected but idle, skips them while active, and pushes about another subject', async () => {
    expect((await rest(world.s, 'POST', '/api/v1/devices', { bearer: await world.s.token('ben'), json: { platform: 'apns', token: 'b0b0' } })).status).toBe(201)
    const ana = await world.open('post-1', 'ana')
    const anaElsewhere = await world.open('post-2', 'ana')
    const ben = await world.open('post-1', 'ben')
    ben.provider.setAwarenessField('user', { id: 'ben', name: 'Ben' })
    ben.provider.setAwarenessField('status', 'idle')
    ben.provider.setAwarenessField('typing', null)
    await waitFor(
      () => [...ana.provider.awareness!.getStates().values()].some((s) => (s.user as { id?: string } | undefined)?.id === 'ben'),
      'ana sees ben idle',
    )
    expect(await world.s.server.presence.isPresent('ben', 'comments/post-1')).toBe(false)

    const mention = (client: typeof ana, text: string) => createThread({ doc: client.doc, userId: 'ana' }, [{ text }, { text: '@Ben', mention: 'ben' }])
    mention(ana, 'idle ')
    let settled: DeliveryRecord | undefined
    await waitFor(async () => (settled = await newestDelivery(1)) !== undefined, 'the first delivery settled')
    expect(settled).toMatchObject({ status: 'sent' })

    ben.provider.setAwarenessField('status', 'active')
    await waitFor(async () => world.s.server.presence.isPresent('ben', 'comments/post-1'), 'ben active')
    mention(ana, 'active ')
    await waitFor(async () => (settled = await newestDelivery(2)) !== undefined, 'the second delivery settled')
    expect(settled).toMatchObject({ status: 'skipped', reason: 'present' })

    mention(anaElsewhere, 'elsewhere ')
    await waitFor(async () => (settled = await newestDelivery(3)) !== undefined, 'the third delivery settled')
    expect(settled).toMatchObject({ status: 'sent' })
    expect(peer.requests.map((r) => r.payload.aps.alert?.body)).toEqual(['idle @Ben', 'elsewhere @Ben'])
  })
})
