/**
 * Authentication: verifies the provider's token, decides the user's role on the document and
 * makes `read` connections read-only. A refusal reaches the client as the provider's
 * `authenticationFailed` with reason `"<code>: <text>"`; the server carries on for everyone else.
 */
import type { Extension, onAuthenticatePayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { ErrorCode, ParleyErrorInfo, Role } from '../../protocol/index.ts'
import { decideAccess } from '../../server/auth/access.ts'
import type { ParleyUser } from '../../server/auth/claims.ts'
import type { TokenVerifier } from '../../server/auth/verifier.ts'
import { ConnectionRefused } from '../errors.ts'
import { PRIORITY } from '../priorities.ts'

/** What every later hook finds in `context` for an authenticated connection. */
export interface ConnectionContext {
  user: ParleyUser
  role: Role
}

export interface AuthenticationConfiguration {
  verifier: TokenVerifier
  devMode: boolean
  logger: Logger
  onRefused: ((code: ErrorCode) => void) | undefined
}

export class Authentication implements Extension {
  readonly extensionName = 'parley-auth'
  readonly priority = PRIORITY.auth
  private readonly configuration: AuthenticationConfiguration

  constructor(configuration: Partial<AuthenticationConfiguration> & Pick<AuthenticationConfiguration, 'verifier' | 'logger'>) {
    this.configuration = { devMode: false, onRefused: undefined, ...configuration }
  }

  async onAuthenticate({ token, documentName, connectionConfig, socketId }: onAuthenticatePayload): Promise<ConnectionContext> {
    const { verifier, devMode, logger } = this.configuration
    const verified = await verifier.verify(token)
    const refuse = (error: ParleyErrorInfo): never => {
      this.configuration.onRefused?.(error.code)
      logger.info({ documentName, socketId, code: error.code }, `connection refused: ${error.message}`)
      throw new ConnectionRefused(error)
    }
    if (!verified.ok) return refuse(verified.error)
    const { user } = verified
    const decision = decideAccess({ userId: user.id, documentName, access: user.access, devMode })
    if (!decision.ok) return refuse(decision.error)
    connectionConfig.readOnly = decision.readOnly
    return { user, role: decision.role }
  }
}
