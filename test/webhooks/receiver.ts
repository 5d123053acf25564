/**
 * A real webhook receiver on 127.0.0.1, port 0: records every POST and answers as the test says
 * (a status and headers, or never). It verifies both signature styles the way an integrator would:
 * `Parley-Signature` by hand with node:crypto, the Standard Webhooks one with the `standardwebhooks` package.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  body: string
  headers: Record<string, string>
  /** `Parley-Signature` matches and is at most 5 minutes old. */
  parleyValid: boolean
  /** The `standardwebhooks` package accepts the request. */
  standardValid: boolean
  event: { id: string; type: string; createdAt: number; data: Record<string, unknown> }
}

export type Answer = { status: number; headers?: Record<string, string> } | 'hang'

export interface Receiver {
  url: string
  received: Received[]
  close(): Promise<void>
}

/** The `standardwebhooks` key for a Parley secret: `whsec_…` as it is, any other secret as base64 of its UTF-8 bytes. */
export function standardKey(secret: string): string {
  return secret.startsWith('whsec_') ? secret : Buffer.from(secret, 'utf8').toString('base64')
}

/** Checks `Parley-Signature: t=…,v1=…` the way contract v1 tells receivers to (reject a `t` older than 5 minutes). */
export function verifyParley(secret: string, header: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  if (!match?.[1] || !match[2]) return false
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest()
  return timingSafeEqual(expected, Buffer.from(match[2], 'hex')) && nowSeconds - Number(match[1]) <= 300
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') out[name] = value
  return out
}

export async function startReceiver(secret: string, answer: (n: number, event: Received['event']) => Answer): Promise<Receiver> {
  const received: Received[] = []
  const hanging: ServerResponse[] = []
  const webhook = new Webhook(standardKey(secret))
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = headersOf(request)
      let standardValid = true
      try {
        webhook.verify(body, headers)
      } catch {
        standardValid = false
      }
      const event = JSON.parse(body) as Received['event']
      received.push({ body, headers, parleyValid: verifyParley(secret, headers['parley-signature'] ?? '', body), standardValid, event })
      const reply = answer(received.length, event)
      if (reply === 'hang') {
        hanging.push(response)
        return
      }
      response.writeHead(reply.status, reply.headers).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    async close() {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
