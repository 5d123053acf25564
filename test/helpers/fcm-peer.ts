/**
 * A local OAuth2 token endpoint and FCM HTTP v1 endpoint over HTTPS (self-signed certificate),
 * with the service account (RSA key) they trust. The token endpoint verifies the JWT-bearer
 * assertion (RS256 under the account's key, `iss`, `aud` = the token URI, `scope`) and hands out
 * access tokens; the send endpoint checks the bearer against the latest one and answers what
 * `answer` says for each message's token (default 200).
 */
import { generateKeyPairSync } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { importSPKI, jwtVerify } from 'jose'
import type { ServiceAccount } from '../../server/delivery/fcm.ts'
import { selfSignedCertificate } from './tls.ts'

export interface FcmSend {
  token: string
  authorized: boolean
  message: {
    token: string
    notification?: { title?: string; body?: string }
    data?: Record<string, string>
    android?: { collapse_key?: string; priority?: string }
  }
}

export interface FcmAnswer {
  status: number
  body?: unknown
  retryAfter?: number
}

export interface FcmPeer {
  origin: string
  ca: string
  account: ServiceAccount
  /** Assertions the token endpoint accepted, and why it refused the others. */
  tokenRequests: Array<{ ok: boolean; error: string | null }>
  sends: FcmSend[]
  answer: (send: FcmSend, index: number) => FcmAnswer
  /** Makes the current access token stale: the next send answers 401. */
  revokeToken(): void
  close(): Promise<void>
}

/** An FCM error body with an `errorCode` detail (and a token field violation when `badToken`). */
export function fcmErrorBody(status: string, errorCode: string | null, badToken = false): unknown {
  const details: unknown[] = []
  if (errorCode) details.push({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode })
  if (badToken)
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
    })
  return {
    error: {
      code: 400,
      message: badToken ? 'The registration token is not a valid FCM registration token' : 'Request contains an invalid argument.',
      status,
      details,
    },
  }
}

export async function startFcmPeer(): Promise<FcmPeer> {
  const { cert, key: tlsKey } = selfSignedCertificate()
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const verifyKey = await importSPKI(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'RS256')
  const server = https.createServer({ key: tlsKey, cert })
  let issued = 0
  let current: string | null = null
  const peer: FcmPeer = {
    origin: '',
    ca: cert,
    account: {
      project_id: 'parley-test',
      private_key_id: 'key-1',
      private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      client_email: 'push@parley-test.iam.gserviceaccount.com',
      token_uri: '',
    },
    tokenRequests: [],
    sends: [],
    answer: () => ({ status: 200 }),
    revokeToken: () => {
      current = null
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
  server.on('request', (req, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (text += chunk))
    req.on('end', () => {
      void (async () => {
        if (req.url === '/token') {
          const form = new URLSearchParams(text)
          let error: string | null = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' ? null : 'wrong grant_type'
          try {
            const { payload } = await jwtVerify(form.get('assertion') ?? '', verifyKey, { issuer: peer.account.client_email, audience: peer.account.token_uri })
            if (payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging') error ??= 'wrong scope'
          } catch (e) {
            error ??= e instanceof Error ? e.message : String(e)
          }
          peer.tokenRequests.push({ ok: error === null, error })
          if (error) return reply(res, 400, { error: 'invalid_grant', error_description: error })
          current = `access-${++issued}`
          return reply(res, 200, { access_token: current, expires_in: 3600, token_type: 'Bearer' })
        }
        if (req.url === `/v1/projects/${peer.account.project_id}/messages:send`) {
          const authorized = current !== null && req.headers.authorization === `Bearer ${current}`
          const message = (JSON.parse(text) as { message: FcmSend['message'] }).message
          const send: FcmSend = { token: message.token, authorized, message }
          const index = peer.sends.push(send) - 1
          if (!authorized)
            return reply(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' } })
          const answer = peer.answer(send, index)
          return reply(
            res,
            answer.status,
            answer.body ?? { name: `projects/${peer.account.project_id}/messages/${index}` },
            answer.retryAfter === undefined ? {} : { 'retry-after': String(answer.retryAfter) },
          )
        }
        reply(res, 404, { error: 'not found' })
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  peer.account.token_uri = `${peer.origin}/token`
  return peer
}
