/**
 * Error codes shared by server and client. Each one travels:
 * - as the `reason` of a failed authentication (`"<code>: <text>"`, see {@link formatAuthReason}),
 * - in a `parley.error` stateless message for per-document errors, or
 * - in a REST error body `{ "error": { "code", "message" } }`.
 */
export const ErrorCode = {
  /** No token was sent with the connection or request. */
  TokenMissing: 'token_missing',
  /** The token is not a JWT, its signature does not verify, or its claims are malformed. */
  TokenInvalid: 'token_invalid',
  /** The token's `exp` has passed (or, in production, it has none). */
  TokenExpired: 'token_expired',
  /** A backend REST call's credentials are wrong: not the API key (`PARLEY_API_KEY`). */
  Unauthorized: 'unauthorized',
  /** The document name is not one of the contract's (`comments/`, `inbox/`, `feed/` + id). */
  InvalidDocumentName: 'invalid_document_name',
  /** The user has no role on the document. */
  Forbidden: 'forbidden',
  /** A write was refused (read-only role, or the write guard). */
  WriteRejected: 'write_rejected',
  /** Too many messages in too short a time. */
  RateLimited: 'rate_limited',
  /** An update depends on data the server does not have (for example after a dropped message): resync. */
  OutOfSync: 'out_of_sync',
  /** A message, value or document is over its size limit. */
  TooLarge: 'too_large',
  /** The user's role on the document was revoked while connected. */
  AccessRevoked: 'access_revoked',
  /** Storage refused or failed the operation; nothing was acknowledged. */
  StorageUnavailable: 'storage_unavailable',
  /** A socket already has as many documents open as it may (`MAX_DOCUMENTS_PER_SOCKET`); close one first. */
  TooManyDocuments: 'too_many_documents',
  /** A REST route or resource does not exist. */
  NotFound: 'not_found',
  /** A REST request body or query is malformed. */
  InvalidRequest: 'invalid_request',
  /** A write to a comment that is deleted (REST answers 409). */
  CommentDeleted: 'comment_deleted',
  /** The server is not ready (a dependency does not answer). */
  NotReady: 'not_ready',
  /** A one-click unsubscribe token (`POST /api/v1/unsubscribe?token=…`) this server did not sign, or one altered since. */
  UnsubscribeTokenInvalid: 'unsubscribe_token_invalid',
  /** Anything unexpected on the server's side. */
  Internal: 'internal_error',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode))

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODES.has(value)
}

/** An error as data: what every layer returns or sends instead of throwing strings. */
export interface ParleyErrorInfo {
  code: ErrorCode
  message: string
}

/** The `parley.error` stateless message of the contract. */
export interface ParleyErrorMessage {
  type: 'parley.error'
  code: ErrorCode
  reason: string
  documentName: string
}

/** Authentication failure reasons read `"<code>: <human text>"`. */
export function formatAuthReason(error: ParleyErrorInfo): string {
  return `${error.code}: ${error.message}`
}

/** Reads the code back from an authentication failure reason, if it carries one. */
export function parseAuthReason(reason: string): ParleyErrorInfo | null {
  const colon = reason.indexOf(': ')
  const code = colon === -1 ? reason : reason.slice(0, colon)
  if (!isErrorCode(code)) return null
  return { code, message: colon === -1 ? '' : reason.slice(colon + 2) }
}

/** An error with a code, thrown by SDK operations that refuse their input before anything is sent. */
export class ParleyError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'ParleyError'
    this.code = code
  }
}

/**
 * WebSocket close codes Parley uses for a whole socket (4000–4999 are the application's). The
 * reason is the error code. A refused update or document is told first with a `parley.error`
 * message for its document; the socket is then closed so that any provider, including one that
 * knows nothing of `parley.error`, reconnects with backoff and resyncs (a repeated refusal of the
 * same thing is closed after a growing hold: server/flow/refusals.ts).
 */
export const CloseCode = {
  /** Storage refused a write, or could not load the document: nothing was acknowledged; reconnect with backoff and resend. */
  StorageUnavailable: { code: 4503, reason: 'storage_unavailable' },
  /** The write guard refused an update (schema, ownership, client id): it will be refused again until the client rebuilds its document. */
  WriteRejected: { code: 4422, reason: 'write_rejected' },
  /** An update, a document or a state vector is over its size limit. */
  TooLarge: { code: 4413, reason: 'too_large' },
  /** An update depends on data the server does not have: the reconnect's handshake sends it. */
  OutOfSync: { code: 4409, reason: 'out_of_sync' },
  /** Abuse far past the flow-control limits (a socket that is only fast is slowed, never closed). */
  RateLimited: { code: 4429, reason: 'rate_limited' },
  /** The socket's unsent data stayed above the slow-reader bound: the client does not read. */
  SlowReader: { code: 4008, reason: 'slow_reader' },
  /** No document authenticated within the pre-authentication deadline (Hocuspocus's own timeout close). */
  ConnectionTimeout: { code: 4408, reason: 'Connection Timeout' },
  /** Past the pre-authentication byte budget or queue limits, or an undecodable frame before authentication (Hocuspocus's own close). */
  ResetConnection: { code: 4205, reason: 'Reset Connection' },
  /** A frame whose document name cannot be read (Hocuspocus's own close). */
  Unauthorized: { code: 4401, reason: 'Unauthorized' },
  /** Graceful shutdown: reconnect to another instance, or to this one once it is back. */
  ServerShutdown: { code: 1001, reason: 'server shutting down' },
} as const

/**
 * Close codes of one document session (Hocuspocus's Close message; the socket and its other
 * documents stay open). The reason is the error code.
 */
export const SessionCloseCode = {
  /** An update or an open refused (`write_rejected`, `too_large`, `out_of_sync`, `too_many_documents`): the reason says which. */
  Refused: 4400,
  /** The user's role on the document was revoked or lowered. */
  AccessRevoked: 4403,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** The socket close that follows a refusal with `code`, if that code closes sockets. */
export function closeCodeFor(code: ErrorCode): CloseCode | undefined {
  switch (code) {
    case ErrorCode.StorageUnavailable:
      return CloseCode.StorageUnavailable
    case ErrorCode.WriteRejected:
      return CloseCode.WriteRejected
    case ErrorCode.TooLarge:
      return CloseCode.TooLarge
    case ErrorCode.OutOfSync:
      return CloseCode.OutOfSync
    case ErrorCode.RateLimited:
      return CloseCode.RateLimited
    default:
      return undefined
  }
}

export function parleyErrorMessage(documentName: string, error: ParleyErrorInfo): ParleyErrorMessage {
  return { type: 'parley.error', code: error.code, reason: error.message, documentName }
}
