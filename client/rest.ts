/**
 * REST calls from the SDK, for what only the server may do (hide, unhide, report): JSON in and
 * out, with the client's token as `Authorization: Bearer`. A refusal rejects with a
 * `ParleyError` carrying the contract's error code.
 */
import { ErrorCode, isErrorCode, ParleyError } from '../protocol/index.ts'
import type { TokenSource } from './session.ts'

export interface RestCaller {
  /** POSTs `body` as JSON to `path` (under the server's HTTP URL); resolves with the JSON answer (null when empty). */
  post(path: string, body: unknown): Promise<unknown>
}

export function createRestCaller(baseUrl: string, token: TokenSource): RestCaller {
  return {
    async post(path, body) {
      const bearer = typeof token === 'function' ? await token() : token
      let response: Response
      try {
        response = await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      } catch (error) {
        throw new ParleyError(ErrorCode.StorageUnavailable, `the server could not be reached: ${error instanceof Error ? error.message : String(error)}`)
      }
      const text = await response.text()
      const json: unknown = text === '' ? null : JSON.parse(text)
      if (response.ok) return json
      const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error
      const code = isErrorCode(error?.code) ? error.code : ErrorCode.Internal
      throw new ParleyError(code, typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`)
    },
  }
}
