/**
 * A standard `@hocuspocus/provider` (it knows nothing of `parley.error`) whose every visible event
 * is recorded: socket opens and closes with their codes, document closes, refused
 * authentications, and the `parley.error` messages it was sent (which it ignores).
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import type { ParleyErrorMessage } from '../../protocol/index.ts'

export interface WatchedProvider {
  doc: Y.Doc
  provider: HocuspocusProvider
  socket: HocuspocusProviderWebsocket
  errors: ParleyErrorMessage[]
  opens: number[]
  socketCloses: Array<{ code: number; reason: string; at: number }>
  /** Reasons of every close the provider reported (socket closes and document closes). */
  closes: string[]
  authFailures: string[]
  destroy(): void
}

/** Reconnect timing of the tests' providers: an aggressive client (50 ms after a close). */
export const FAST_RECONNECT = { delay: 50, minDelay: 20, maxDelay: 500 }

export function watchedProvider(
  url: string,
  name: string,
  token: string,
  doc: Y.Doc = new Y.Doc(),
  socket = new HocuspocusProviderWebsocket({ url, ...FAST_RECONNECT }),
): WatchedProvider {
  const watched: WatchedProvider = {
    doc,
    socket,
    errors: [],
    opens: [],
    socketCloses: [],
    closes: [],
    authFailures: [],
    provider: new HocuspocusProvider({
      websocketProvider: socket,
      name,
      document: doc,
      token,
      onStateless: ({ payload }) => {
        const message = JSON.parse(payload) as ParleyErrorMessage
        if (message.type === 'parley.error') watched.errors.push(message)
      },
      onClose: ({ event }) => watched.closes.push(event.reason),
      onAuthenticationFailed: ({ reason }) => watched.authFailures.push(reason),
    }),
    destroy() {
      watched.provider.destroy()
      socket.destroy()
    },
  }
  socket.on('open', () => watched.opens.push(performance.now()))
  socket.on('close', ({ event }: { event: { code: number; reason: string } }) =>
    watched.socketCloses.push({ code: event.code, reason: event.reason, at: performance.now() }),
  )
  watched.provider.attach()
  return watched
}
