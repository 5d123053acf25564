/**
 * One webhook POST over node:http(s) with a keep-alive agent: cheaper per request than `fetch`
 * (which the loop used before; at 500 events a second its web streams and abort signals stood out
 * in a CPU profile). No redirects are followed; the whole exchange is bounded by a timeout.
 */
import http from 'node:http'
import https from 'node:https'

export interface PostAnswer {
  /** The HTTP status, or null when there was no answer (timeout, refused, aborted). */
  status: number | null
  retryAfter: string | null
  error: string | null
}

export interface Poster {
  post(headers: Record<string, string>, body: string): Promise<PostAnswer>
  /** Aborts what is in flight and closes the kept-alive connections. */
  close(): void
}

export function createPoster(url: string, timeoutMs: number): Poster {
  const target = new URL(url)
  const secure = target.protocol === 'https:'
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  const inFlight = new Set<http.ClientRequest>()
  const send = secure ? https.request : http.request
  return {
    post(headers, body) {
      return new Promise<PostAnswer>((resolve) => {
        let settled = false
        const finish = (answer: PostAnswer) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          inFlight.delete(request)
          resolve(answer)
        }
        const request = send(target, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
          const status = response.statusCode ?? 0
          const retryAfter = response.headers['retry-after'] ?? null
          response.resume()
          response.on('end', () => finish({ status, retryAfter, error: status >= 200 && status < 300 ? null : `HTTP ${status}` }))
          response.on('error', (error) => finish({ status: null, retryAfter: null, error: error.message }))
        })
        const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
        inFlight.add(request)
        request.on('error', (error) => finish({ status: null, retryAfter: null, error: error.message }))
        request.end(body)
      })
    },
    close() {
      for (const request of inFlight) request.destroy(new Error('the server is closing'))
      agent.destroy()
    },
  }
}
