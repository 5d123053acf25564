/**
 * Authentication: verifies the provider's token, decides the user's role on the document (token
 * claim, stored membership and default role, dev mode: core/access/resolve.ts) and makes `read`
 * connections read-only. A refusal reaches the client as the provider's `authenticationFailed`
 * with reason `"<code>: <text>"`; the server carries on for everyone else.
 *
 * Every verified token is remembered (claim, name, handle), so that the server can answer for
 * users who are not connected.
 */
import type { Extension, beforeHandleMessagePayload, connectedPayload, onAuthenticatePayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { echoedName, type ErrorCode, type ParleyErrorInfo } from '../../protocol/index.ts'
import type { AccessResolver } from '../../core/access/resolve.ts'
import { ACCESS_REVOKED_CLOSE, type Revocation } from './revoke.ts'
import type { TokenVerifier } from '../../core/auth/verifier.ts'
import { connectionOf, type ConnectionContext, type ParleyContext } from '../context.ts'
import { ConnectionRefused } from '../errors.ts'
import { PRIORITY } from '../priorities.ts'

export type { ConnectionContext } from '../context.ts'

/**
 * Told when an authentication starts and how it ends, by the socket's request (one `Request` per
 * socket): the HTTP layer's pre-authentication limits apply until a socket's first success.
 */
export interface AuthenticationWatch {
  started(request: Request): void
  ended(request: Request, authenticated: boolean): void
}

export interface AuthenticationConfiguration {
  verifier: TokenVerifier
  access: AccessResolver
  /** Closes connections whose role was revoked; without one, nothing is re-checked. */
  revocation: Pick<Revocation, 'generation' | 'epoch' | 'recheckConnection'> | undefined
  logger: Logger
  onRefused: ((code: ErrorCode) => void) | undefined
  watch: AuthenticationWatch | undefined
}

export class Authentication implements Extension {
  readonly extensionName = 'parley-auth'
  readonly priority = PRIORITY.auth
  private readonly configuration: AuthenticationConfiguration

  constructor(configuration: Partial<AuthenticationConfiguration> & Pick<AuthenticationConfiguration, 'verifier' | 'access' | 'logger'>) {
    this.configuration = { revocation: undefined, onRefused: undefined, watch: undefined, ...configuration }
  }

  async onAuthenticate(payload: onAuthenticatePayload): Promise<ConnectionContext> {
    const { watch } = this.configuration
    watch?.started(payload.request)
    let authenticated = false
    try {
      const context = await this.decide(payload)
      authenticated = true
      return context
    } finally {
      watch?.ended(payload.request, authenticated)
    }
  }

  private async decide({ token, documentName, connectionConfig, socketId }: onAuthenticatePayload): Promise<ConnectionContext> {
    const { verifier, access, revocation, logger } = this.configuration
    const accessGeneration = revocation?.generation ?? 0
    const accessEpoch = revocation?.epoch ?? 0
    const verified = await verifier.verify(token)
    const refuse = (error: ParleyErrorInfo): never => {
      this.configuration.onRefused?.(error.code)
      logger.info({ documentName: echoedName(documentName), socketId, code: error.code }, `connection refused: ${error.message}`)
      throw new ConnectionRefused(error)
    }
    if (!verified.ok) return refuse(verified.error)
    const user = verified.value
    try {
      await access.remember(user)
    } catch (error) {
      // Remembering serves later questions about this user; it never decides this connection.
      logger.warn({ err: error, userId: user.id }, 'the token could not be remembered')
    }
    const decision = await access.decide(user, documentName)
    if (!decision.ok) return refuse(decision.error)
    connectionConfig.readOnly = decision.value.readOnly
    return { user, role: decision.value.role, accessGeneration, accessEpoch }
  }

  /**
   * After this instance missed an access change announced by another (a lost Redis message), a
   * connection decided before is resolved again before its next message is handled; one that lost
   * its role is closed (`access_revoked`) and the message is not applied.
   */
  async beforeHandleMessage({ connection, documentName }: beforeHandleMessagePayload<ParleyContext>): Promise<void> {
    const { revocation } = this.configuration
    const context = connection.context as ParleyContext | undefined
    if (!revocation || !context || context.accessEpoch === undefined || context.accessEpoch === revocation.epoch) return
    context.accessEpoch = revocation.epoch
    let closed: boolean
    try {
      closed = await revocation.recheckConnection(connection, documentName)
    } catch (error) {
      this.configuration.logger.error({ err: error, documentName }, 'access re-check before a message failed; the connection keeps its role')
      return
    }
    // Hocuspocus closes the connection with the thrown code and drops the message.
    if (closed) throw Object.assign(new Error(`access to ${documentName} was revoked`), ACCESS_REVOKED_CLOSE)
  }

  /** A revocation that ran while this connection was being decided may have missed it. */
  async connected({ connection, context, documentName }: connectedPayload<ParleyContext>): Promise<void> {
    const { revocation } = this.configuration
    const decidedAt = connectionOf(context)?.accessGeneration
    if (!revocation || decidedAt === revocation.generation) return
    try {
      await revocation.recheckConnection(connection, documentName)
    } catch (error) {
      this.configuration.logger.error({ err: error, documentName }, 'access re-check of a new connection failed')
    }
  }
}
