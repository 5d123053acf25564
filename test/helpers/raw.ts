/** A raw Yjs client (only `yjs` and `@hocuspocus/provider`) that records `parley.error` messages. */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import type { ParleyErrorMessage } from '../../protocol/index.ts'
import { waitFor } from './wait.ts'

export interface RawClient {
  doc: Y.Doc
  provider: HocuspocusProvider
  errors: ParleyErrorMessage[]
  closes: string[]
  destroy(): void
}

export async function rawClient(url: string, name: string, token: string, doc: Y.Doc = new Y.Doc()): Promise<RawClient> {
  const socket = new HocuspocusProviderWebsocket({ url, delay: 50, minDelay: 20, maxDelay: 500 })
  const errors: ParleyErrorMessage[] = []
  const closes: string[] = []
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    document: doc,
    token,
    onStateless: ({ payload }) => {
      const message = JSON.parse(payload) as ParleyErrorMessage
      if (message.type === 'parley.error') errors.push(message)
    },
    onClose: ({ event }) => closes.push(event.reason),
  })
  provider.attach()
  await waitFor(() => provider.isSynced, `${name} synced`)
  return {
    doc,
    provider,
    errors,
    closes,
    destroy() {
      provider.destroy()
      socket.destroy()
    },
  }
}
