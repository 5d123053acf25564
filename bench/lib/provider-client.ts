/** A full @hocuspocus/provider client for benchmarks that need real documents (inboxes, writers). */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'

export interface ProviderClient {
  provider: HocuspocusProvider
  socket: HocuspocusProviderWebsocket
  doc: Y.Doc
}

/** Connects and resolves once synced; rejects when authentication fails. */
export function connectProvider(url: string, name: string, token: string): Promise<ProviderClient> {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, token, document: doc })
  provider.attach()
  return new Promise((resolve, reject) => {
    provider.on('synced', () => resolve({ provider, socket, doc }))
    provider.on('authenticationFailed', ({ reason }: { reason: string }) => reject(new Error(`${name}: ${reason}`)))
  })
}

export function destroyProviders(clients: readonly ProviderClient[]): void {
  for (const c of clients) {
    c.provider.destroy()
    c.socket.destroy()
  }
}
