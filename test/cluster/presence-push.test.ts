/**
 * The delivery policy's "present" decision across instances: ben, active on the subject through
 * instance two, is not pushed a mention that instance one decides; once he leaves, he is.
 */
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import type { DeliveryRecord } from '../../core/delivery/deliveries.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { connectSynced } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

const BEN_PHONE = 'b0b0b0'

describe('push skips a user present on another instance', () => {
  let peer: ApnsPeer
  let schema: TestSchema
  let world: World
  let two: TestServer
  beforeEach(async () => {
    peer = await startApnsPeer()
    schema = await createTestSchema()
    const keyFile = path.join(tempDir('parley-apns-'), 'key.p8')
    writeFileSync(keyFile, peer.key)
    const clusterPresence = { prefix: `parley-test:${randomUUID()}:presence`, heartbeatMs: 200, entryTtlMs: 1_000 }
    world = await startWorld({
      redisUrl: REDIS_URL,
      databaseUrl: schema.url,
      clusterPresence,
      push: {
        apns: { keyFile, keyId: peer.keyId, teamId: peer.teamId, topic: peer.topic, production: false, host: '127.0.0.1', port: peer.port },
        webPush: undefined,
        fcm: undefined,
      },
      delivery: { ca: [peer.ca] },
    })
    // Instance two sends no push: every delivery is decided on instance one.
    two = await startServer({ redisUrl: REDIS_URL, databaseUrl: schema.url, secret: world.s.secret, apiKey: TEST_API_KEY, clusterPresence })
    await registerSubject(world.s, 'post-1')
  })
  afterEach(async () => {
    await world.dispose()
    await two.dispose()
    await peer.close()
    await schema.drop()
  })

  const deliveries = async (userId: string): Promise<DeliveryRecord[]> => {
    const [note] = await world.notifications(userId)
    return note ? world.s.server.storage.deliveries.ofNotification(userId, note.id) : []
  }

  it('skips ben while he is active on instance two, pushes him once he left', async () => {
    await rest(world.s, 'POST', '/api/v1/devices', { bearer: await world.s.token('ben'), json: { platform: 'apns', token: BEN_PHONE } })
    peer.answer = () => ({ status: 200 })
    const ben = await connectSynced(two.server.webSocketUrl, 'comments/post-1', await two.token('ben', { access: {} }))
    ben.provider.setAwarenessField('user', { id: 'ben', name: 'Ben' })
    ben.provider.setAwarenessField('status', 'active')
    await waitFor(async () => world.s.server.presence.isPresent('ben', 'comments/post-1'), 'instance one sees ben present')

    const ana = await world.open('post-1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'here ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'skipped', 'skipped: present on instance two')
    expect((await deliveries('ben'))[0]?.reason).toBe('present')
    expect(peer.requests).toHaveLength(0)

    ben.destroy()
    await waitFor(async () => !(await world.s.server.presence.isPresent('ben', 'comments/post-1')), 'ben gone')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'gone ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(async () => (await world.notifications('ben')).length === 2, 'the second mention')
    await waitFor(async () => (await deliveries('ben'))[0]?.status === 'sent', 'pushed once ben left')
    expect(peer.requests).toHaveLength(1)
  }, 40_000)
})
