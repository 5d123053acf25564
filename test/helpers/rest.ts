/** REST calls against a test server: JSON in, status and JSON out. */
import type { TestServer } from './server.ts'

/** An API key long enough for the configuration's rule (16 characters). */
export const TEST_API_KEY = 'test-api-key-0123456789abcdef'

export interface RestAnswer<T = unknown> {
  status: number
  body: T
}

export interface RestOptions {
  /** `Authorization: Bearer <bearer>`: a user token or the API key. */
  bearer?: string
  /** A raw Authorization header value, for malformed ones. */
  authorization?: string
  /** Sent as JSON. */
  json?: unknown
  /** Sent as is (for bodies that are not JSON). */
  raw?: string
}

export interface ErrorBody {
  error: { code: string; message: string }
}

export async function rest<T = unknown>(s: TestServer, method: string, path: string, options: RestOptions = {}): Promise<RestAnswer<T>> {
  const headers: Record<string, string> = {}
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`
  if (options.authorization !== undefined) headers.authorization = options.authorization
  let body: string | undefined
  if (options.json !== undefined) body = JSON.stringify(options.json)
  if (options.raw !== undefined) body = options.raw
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${s.server.httpUrl}${path}`, { method, headers, body })
  const text = await response.text()
  return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T }
}

/** The error code of an error answer, or `undefined` when the answer is not an error. */
export function codeOf(answer: RestAnswer): string | undefined {
  const body = answer.body as Partial<ErrorBody> | null
  return body?.error?.code
}
