/**
 * A local peer speaking the APNs provider API over HTTP/2 + TLS (self-signed certificate): it
 * checks the path `/3/device/<token>`, the bearer JWT (ES256, `kid`, `iss`, `iat`, signed by the
 * .p8 key's public half) and the headers, records every request, and answers what `answer`
 * says for each one (200, or a status with an APNs `reason` and optional `retry-after`).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose'
import { selfSignedCertificate } from './tls.ts'

export interface ApnsRequest {
  token: string
  headers: Record<string, string>
  payload: { aps: { alert?: { title?: string; body?: string }; badge?: number; 'thread-id'?: string }; [key: string]: unknown }
  /** Why the peer refused the request's credentials, if it did. */
  authError: string | null
  /** The status the peer answered, and when (performance clock). */
  answered: number
  at: number
}

export interface ApnsAnswer {
  status: number
  reason?: string
  retryAfter?: number
}

export interface ApnsPeer {
  port: number
  /** The certificate to trust. */
  ca: string
  /** The .p8 key (PEM) the provider signs with, and its ids. */
  key: string
  keyId: string
  teamId: string
  topic: string
  requests: ApnsRequest[]
  /** HTTP/2 sessions (connections) opened to the peer so far, and those still open. */
  sessions: { opened: number; open: number }
  /** Decides each answer (default: 200). */
  answer: (request: ApnsRequest, index: number) => ApnsAnswer
  close(): Promise<void>
}

export async function startApnsPeer(): Promise<ApnsPeer> {
  const { cert, key: tlsKey } = selfSignedCertificate()
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const publicKey = await importSPKI(createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString(), 'ES256')
  const server = http2.createSecureServer({ key: tlsKey, cert })
  const peer: ApnsPeer = {
    port: 0,
    ca: cert,
    key,
    keyId: 'KEY1234567',
    teamId: 'TEAM123456',
    topic: 'com.example.parley',
    requests: [],
    sessions: { opened: 0, open: 0 },
    answer: () => ({ status: 200 }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const checkAuth = async (authorization: string | undefined): Promise<string | null> => {
    const jwt = authorization?.startsWith('bearer ') ? authorization.slice('bearer '.length) : null
    if (!jwt) return 'no bearer token'
    try {
      if (decodeProtectedHeader(jwt).kid !== peer.keyId) return 'wrong kid'
      const { payload } = await jwtVerify(jwt, publicKey, { algorithms: ['ES256'], issuer: peer.teamId })
      return typeof payload.iat === 'number' ? null : 'no iat'
    } catch (error) {
      return error instanceof Error ? error.message : String(error)
    }
  }
  server.on('session', (session) => {
    peer.sessions.opened++
    peer.sessions.open++
    session.on('close', () => peer.sessions.open--)
  })
  server.on('stream', (stream, headers) => {
    let body = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => (body += chunk))
    stream.on('end', () => {
      void (async () => {
        const path = String(headers[':path'] ?? '')
        const plain = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]))
        const request: ApnsRequest = {
          token: path.startsWith('/3/device/') ? path.slice('/3/device/'.length) : '',
          headers: plain,
          payload: JSON.parse(body || '{}') as ApnsRequest['payload'],
          authError: await checkAuth(plain.authorization),
          answered: 0,
          at: performance.now(),
        }
        const index = peer.requests.push(request) - 1
        const answer: ApnsAnswer = request.authError
          ? { status: 403, reason: 'InvalidProviderToken' }
          : headers[':method'] !== 'POST' || !request.token || plain['apns-topic'] !== peer.topic
            ? { status: 400, reason: 'BadPath' }
            : peer.answer(request, index)
        request.answered = answer.status
        const out: http2.OutgoingHttpHeaders = { ':status': answer.status, 'apns-id': `id-${index}` }
        if (answer.retryAfter !== undefined) out['retry-after'] = String(answer.retryAfter)
        if (answer.status === 200) {
          stream.respond(out, { endStream: true })
          return
        }
        stream.respond({ ...out, 'content-type': 'application/json' })
        stream.end(JSON.stringify({ reason: answer.reason ?? 'InternalServerError' }))
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer.port = (server.address() as AddressInfo).port
  return peer
}
