/**
 * Push across kill -9: the server kills itself (PARLEY_FAULT=push-after-send) right after the
 * APNs peer accepted a push and before the delivery was recorded. After a restart the outbox row
 * comes due again once its lease runs out: the notification is delivered, with at most one
 * duplicate, which carries the same apns-collapse-id (the device shows it once). The server is a
 * real `parley serve` configured from APNS_* variables and trusting the peer through
 * NODE_EXTRA_CA_CERTS.
 */
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** The outbox lease (core/notifications/outbox.ts) and then some: a crashed claim is due again after it. */
const LEASE_AND_MARGIN_MS = 25_000

describe('push across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []
  let peer: ApnsPeer | undefined
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    await peer?.close()
  })

  it('after the push service accepted and before the delivery was recorded: delivered, at most one duplicate with the same collapse id', async () => {
    peer = await startApnsPeer()
    const dataDir = tempDir()
    dirs.push(dataDir)
    writeFileSync(path.join(dataDir, 'key.p8'), peer.key)
    writeFileSync(path.join(dataDir, 'ca.pem'), peer.ca)
    const secret = newSecret()
    const env = {
      PARLEY_DATA_DIR: dataDir,
      PARLEY_JWT_SECRET: secret,
      PARLEY_API_KEY: TEST_API_KEY,
      APNS_KEY_FILE: path.join(dataDir, 'key.p8'),
      APNS_KEY_ID: peer.keyId,
      APNS_TEAM_ID: peer.teamId,
      APNS_TOPIC: peer.topic,
      APNS_HOST: '127.0.0.1',
      APNS_PORT: String(peer.port),
      NODE_EXTRA_CA_CERTS: path.join(dataDir, 'ca.pem'),
    }
    const first = await startChild({ ...env, PARLEY_FAULT: 'push-after-send' })
    children.push(first)
    const ben = await tokenFor(secret, 'ben')
    const registered = await fetch(`${first.httpUrl}/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ben}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'apns', token: 'c0ffee' }),
    })
    expect(registered.status).toBe(201)
    const ana = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
    clients.push(ana)
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'ping ' }, { text: '@Ben', mention: 'ben' }])
    await acknowledged(ana)
    expect(await first.exited).toBeNull()
    expect(peer.requests).toHaveLength(1)

    const second = await startChild(env)
    children.push(second)
    const deliveries = async () => {
      const list = await fetch(`${second.httpUrl}/api/v1/notifications`, { headers: { authorization: `Bearer ${ben}` } })
      const listed = (await list.json()) as { notifications?: Array<{ id: string }> }
      if (!listed.notifications) throw new Error(`notifications: ${list.status} ${JSON.stringify(listed)}`)
      const [note] = listed.notifications
      if (!note) return []
      const answer = await fetch(`${second.httpUrl}/api/v1/notifications/${note.id}/deliveries`, { headers: { authorization: `Bearer ${ben}` } })
      return ((await answer.json()) as { deliveries: Array<{ status: string }> }).deliveries
    }
    // Polled every 250 ms: faster would run into the per-user REST rate limit.
    let checkedAt = 0
    await waitFor(
      async () => {
        if (Date.now() - checkedAt < 250) return false
        checkedAt = Date.now()
        return (await deliveries())[0]?.status === 'sent'
      },
      'recorded as sent after the restart',
      LEASE_AND_MARGIN_MS,
    )
    expect(peer.requests.length).toBeGreaterThanOrEqual(1)
    expect(peer.requests.length).toBeLessThanOrEqual(2)
    const collapseIds = new Set(peer.requests.map((r) => r.headers['apns-collapse-id']))
    expect(collapseIds.size).toBe(1)
  }, 60_000)
})
