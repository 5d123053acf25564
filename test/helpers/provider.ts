/** Real `@hocuspocus/provider` clients for tests. */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { waitFor } from './wait.ts'

export interface TestClient {
  provider: HocuspocusProvider
  socket: HocuspocusProviderWebsocket
  doc: Y.Doc
  authFailure: string | undefined
  destroy(): void
}

export function connectClient(url: string, name: string, token: string, doc: Y.Doc = new Y.Doc()): TestClient {
  const socket = new HocuspocusProviderWebsocket({ url, delay: 50, minDelay: 20, maxDelay: 500 })
  const client: TestClient = {
    socket,
    doc,
    authFailure: undefined,
    provider: new HocuspocusProvider({
      websocketProvider: socket,
      name,
      token,
      document: doc,
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

export async function connectSynced(url: string, name: string, token: string, doc?: Y.Doc): Promise<TestClient> {
  const client = connectClient(url, name, token, doc)
  await waitFor(() => client.provider.isSynced || client.authFailure !== undefined, `${name} synced`)
  if (client.authFailure) throw new Error(`authentication failed: ${client.authFailure}`)
  return client
}

/** Resolves once the server acknowledged every local change. */
export function acknowledged(client: TestClient, timeoutMs?: number): Promise<void> {
  return waitFor(() => client.provider.unsyncedChanges === 0, 'all changes acknowledged', timeoutMs)
}

export async function authFailureOf(url: string, name: string, token: string): Promise<string> {
  const client = connectClient(url, name, token)
  try {
    await waitFor(() => client.authFailure !== undefined || client.provider.isSynced, `${name} refused or synced`)
    if (client.authFailure === undefined) throw new Error(`${name} was not refused`)
    return client.authFailure
  } finally {
    client.destroy()
  }
}
