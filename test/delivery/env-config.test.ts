/**
 * The push variables of contract v1 reach real peers from `parley serve`: FCM_SERVICE_ACCOUNT_FILE
 * (its `token_uri` the local OAuth2 endpoint) with FCM_ENDPOINT overriding the send URL, and
 * VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY / VAPID_SUBJECT, both services' self-signed certificates
 * trusted through NODE_EXTRA_CA_CERTS. A mention reaches the FCM device and the Web Push
 * subscription once each, with a verified assertion, VAPID JWT and decrypted payload.
 */
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import webpush from 'web-push'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { startFcmPeer, type FcmPeer } from '../helpers/fcm-peer.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { startWebPushPeer, type WebPushPeer } from '../helpers/webpush-peer.ts'

describe('push configured from the environment', () => {
  let child: ChildServer | undefined
  let client: TestClient | undefined
  let fcmPeer: FcmPeer | undefined
  let webPeer: WebPushPeer | undefined
  let dir: string | undefined
  afterEach(async () => {
    client?.destroy()
    child?.process.kill('SIGKILL')
    await fcmPeer?.close()
    await webPeer?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('sends to the FCM endpoint and the Web Push service the variables name, trusted through NODE_EXTRA_CA_CERTS', async () => {
    fcmPeer = await startFcmPeer()
    webPeer = await startWebPushPeer()
    dir = tempDir('parley-push-env-')
    writeFileSync(path.join(dir, 'account.json'), JSON.stringify(fcmPeer.account))
    writeFileSync(path.join(dir, 'ca.pem'), `${fcmPeer.ca}\n${webPeer.ca}`)
    const vapid = webpush.generateVAPIDKeys()
    const secret = newSecret()
    child = await startChild({
      PARLEY_DATA_DIR: dir,
      PARLEY_JWT_SECRET: secret,
      PARLEY_API_KEY: TEST_API_KEY,
      FCM_SERVICE_ACCOUNT_FILE: path.join(dir, 'account.json'),
      FCM_ENDPOINT: fcmPeer.origin,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
    })
    const { httpUrl } = child
    const call = async (method: string, route: string, bearer: string, json: unknown) => {
      const answer = await fetch(`${httpUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
      })
      return answer.status
    }
    expect(await call('PUT', '/api/v1/subjects/post-1', TEST_API_KEY, { defaultRole: 'comment' })).toBe(200)
    const ben = await tokenFor(secret, 'ben')
    expect(await call('POST', '/api/v1/devices', ben, { platform: 'fcm', token: 'pixel' })).toBe(201)
    expect(await call('POST', '/api/v1/devices', ben, { platform: 'webpush', subscription: webPeer.subscription('laptop') })).toBe(201)

    client = await connectSynced(child.webSocketUrl, 'comments/post-1', await tokenFor(secret, 'ana'))
    createThread({ doc: client.doc, userId: 'ana' }, [{ text: 'env ' }, { text: '@Ben', mention: 'ben' }])
    await acknowledged(client)
    await waitFor(() => fcmPeer!.sends.length === 1 && webPeer!.requests.length === 1, 'one push to each service', 15_000)
    expect(fcmPeer.tokenRequests).toEqual([{ ok: true, error: null }])
    expect(fcmPeer.sends[0]).toMatchObject({ token: 'pixel', authorized: true, message: { notification: { body: 'env @Ben' } } })
    expect(webPeer.requests[0]).toMatchObject({ name: 'laptop', authError: null, payload: { body: 'env @Ben' } })
  }, 40_000)
})
