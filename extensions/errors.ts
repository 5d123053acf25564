/** Sends the contract's `parley.error` stateless message to one connection. */
import type { Connection } from '@hocuspocus/server'
import { formatAuthReason, parleyErrorMessage, type ParleyErrorInfo } from '../protocol/index.ts'

export function sendParleyError(connection: Connection, documentName: string, error: ParleyErrorInfo): void {
  connection.sendStateless(JSON.stringify(parleyErrorMessage(documentName, error)))
}

/**
 * Thrown from `onAuthenticate` or `onLoadDocument`: Hocuspocus sends `reason` to the provider as
 * a permission-denied message (`authenticationFailed` on the client), formatted `"<code>: <text>"`.
 */
export class ConnectionRefused extends Error {
  readonly reason: string
  readonly code: ParleyErrorInfo['code']
  constructor(error: ParleyErrorInfo) {
    super(formatAuthReason(error))
    this.reason = formatAuthReason(error)
    this.code = error.code
  }
}
