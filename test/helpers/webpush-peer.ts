/**
 * A local push service over HTTPS (self-signed certificate) for Web Push: it checks the VAPID
 * `Authorization: vapid t=<jwt>, k=<key>` (ES256 under the sender's public key, `aud` = this
 * origin, `exp` within a day, `sub`), and decrypts the `aes128gcm` body (RFC 8188, RFC 8291) with
 * the subscription's private key and auth secret, which it makes for the test
 * (`subscription(name)`). Every request is recorded; `answer` picks each status.
 */
import { createECDH, createDecipheriv, hkdfSync, randomBytes, type ECDH } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { decodeJwt, importJWK, jwtVerify } from 'jose'
import { selfSignedCertificate } from './tls.ts'

export interface WebPushRequest {
  name: string
  headers: Record<string, string>
  /** The decrypted payload, parsed; null when it did not decrypt. */
  payload: Record<string, unknown> | null
  /** Why the VAPID credentials were refused, if they were. */
  authError: string | null
}

export interface WebPushPeer {
  origin: string
  ca: string
  requests: WebPushRequest[]
  answer: (request: WebPushRequest, index: number) => { status: number; retryAfter?: number }
  /** A browser's subscription to this service, as PushManager would give it. */
  subscription(name: string): { endpoint: string; keys: { p256dh: string; auth: string } }
  close(): Promise<void>
}

const b64 = (buffer: Buffer) => buffer.toString('base64url')

function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length))
}

/** RFC 8291 decryption of one `aes128gcm` body for the subscriber `ua`. */
function decrypt(body: Buffer, ua: ECDH, auth: Buffer): Buffer {
  const salt = body.subarray(0, 16)
  const idLength = body.readUInt8(20)
  const senderKey = body.subarray(21, 21 + idLength)
  const ciphertext = body.subarray(21 + idLength)
  const secret = ua.computeSecret(senderKey)
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.getPublicKey(), senderKey])
  const ikm = hkdf(auth, secret, keyInfo, 32)
  const cek = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0'), 16)
  const nonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0'), 12)
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16))
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()])
  // The last record ends with the delimiter 0x02, then zero padding.
  return padded.subarray(0, padded.lastIndexOf(2))
}

export async function startWebPushPeer(): Promise<WebPushPeer> {
  const { cert, key } = selfSignedCertificate()
  const subscribers = new Map<string, { ua: ECDH; auth: Buffer }>()
  const server = https.createServer({ key, cert })
  const peer: WebPushPeer = {
    origin: '',
    ca: cert,
    requests: [],
    answer: () => ({ status: 201 }),
    subscription(name) {
      const ua = createECDH('prime256v1')
      ua.generateKeys()
      const auth = randomBytes(16)
      subscribers.set(name, { ua, auth })
      return { endpoint: `${peer.origin}/push/${name}`, keys: { p256dh: b64(ua.getPublicKey()), auth: b64(auth) } }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const checkVapid = async (authorization: string | undefined): Promise<string | null> => {
    const match = /^vapid t=([^,]+),\s*k=(.+)$/.exec(authorization ?? '')
    if (!match?.[1] || !match[2]) return 'no vapid authorization'
    const raw = Buffer.from(match[2], 'base64url')
    if (raw.length !== 65) return 'k is not a P-256 point'
    const publicKey = await importJWK({ kty: 'EC', crv: 'P-256', x: b64(raw.subarray(1, 33)), y: b64(raw.subarray(33)) }, 'ES256')
    try {
      await jwtVerify(match[1], publicKey, { algorithms: ['ES256'], audience: peer.origin })
      const claims = decodeJwt(match[1])
      if (typeof claims.exp !== 'number' || claims.exp > Date.now() / 1000 + 86_400) return 'exp missing or beyond a day'
      return typeof claims.sub === 'string' ? null : 'no sub'
    } catch (error) {
      return error instanceof Error ? error.message : String(error)
    }
  }
  server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      void (async () => {
        const name = (req.url ?? '').replace(/^\/push\//, '')
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
        const subscriber = subscribers.get(name)
        let payload: Record<string, unknown> | null = null
        try {
          if (subscriber && headers['content-encoding'] === 'aes128gcm') {
            payload = JSON.parse(decrypt(Buffer.concat(chunks), subscriber.ua, subscriber.auth).toString('utf8')) as Record<string, unknown>
          }
        } catch {
          payload = null
        }
        const request: WebPushRequest = { name, headers, payload, authError: await checkVapid(headers.authorization) }
        const index = peer.requests.push(request) - 1
        const answer = request.authError ? { status: 403 } : !subscriber ? { status: 404 } : peer.answer(request, index)
        res.writeHead(answer.status, answer.retryAfter === undefined ? {} : { 'retry-after': String(answer.retryAfter) })
        res.end()
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  return peer
}
