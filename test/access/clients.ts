/**
 * Providers that record what the server tells them about their document: `parley.error`
 * messages, document closes (with the time they arrived) and authentication failures.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import type { ParleyErrorMessage } from '../../protocol/index.ts'
import { waitFor } from '../helpers/wait.ts'

export interface WatchedClient {
  provider: HocuspocusProvider
  doc: Y.Doc
  errors: ParleyErrorMessage[]
  closes: Array<{ reason: string; at: number }>
  authFailure: string | undefined
  destroy(): void
}

export function newSocket(url: string): HocuspocusProviderWebsocket {
  return new HocuspocusProviderWebsocket({ url, delay: 50, minDelay: 20, maxDelay: 500 })
}

/** Opens `name` on `socket` (a new one when not given) and waits until it is synced. */
export async function watchedClient(url: string, name: string, token: string, socket = newSocket(url)): Promise<WatchedClient> {
  const client = openWatched(url, name, token, socket)
  await waitFor(() => client.provider.isSynced || client.authFailure !== undefined, `${name} synced`)
  if (client.authFailure !== undefined) throw new Error(`authentication failed: ${client.authFailure}`)
  return client
}

/** Opens `name` on `socket` (a new one when not given) without waiting. */
export function openWatched(url: string, name: string, token: string, socket = newSocket(url)): WatchedClient {
  const doc = new Y.Doc()
  const client: WatchedClient = {
    doc,
    errors: [],
    closes: [],
    authFailure: undefined,
    provider: new HocuspocusProvider({
      websocketProvider: socket,
      name,
      token,
      document: doc,
      onStateless: ({ payload }) => {
        const message = JSON.parse(payload) as ParleyErrorMessage
        if (message.type === 'parley.error') client.errors.push(message)
      },
      onClose: ({ event }) => client.closes.push({ reason: event.reason, at: Date.now() }),
      onAuthenticationFailed: ({ reason }) => {
        client.authFailure = reason
      },
    }),
    destroy() {
      client.provider.destroy()
      socket.destroy()
    },
  }
  client.provider.attach()
  return client
}

/** The user ids of the connections the server holds for a document. */
export function connectedUsers(documents: Map<string, { getConnections(): Array<{ context: unknown }> }>, name: string): string[] {
  const document = documents.get(name)
  if (!document) return []
  return document
    .getConnections()
    .map((connection) => (connection.context as { user?: { id?: string } } | null)?.user?.id ?? '?')
    .sort()
}
