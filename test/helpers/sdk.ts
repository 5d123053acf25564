/** SDK clients against a test server. */
import type * as Y from 'yjs'
import { createParleyClient, type ParleyClient, type ParleyClientOptions } from '../../client/index.ts'
import type { CommentsHandle } from '../../client/comments.ts'
import { readThreads } from '../../protocol/index.ts'
import type { TestServer } from './server.ts'
import { waitFor } from './wait.ts'

/** Fast reconnects for tests; production defaults are slower. */
export const TEST_RECONNECT = { baseDelayMs: 100, maxDelayMs: 500 }

export async function sdkClient(s: TestServer, userId: string, options: Partial<ParleyClientOptions> = {}): Promise<ParleyClient> {
  // The server shows the token's name in awareness, so a test that names its user names the token.
  const token = await s.token(userId, options.userName === undefined ? undefined : { name: options.userName })
  return createParleyClient({ url: s.server.webSocketUrl, token, reconnect: TEST_RECONNECT, ...options })
}

export async function openSynced(client: ParleyClient, subjectId: string): Promise<CommentsHandle> {
  const handle = client.comments(subjectId)
  await handle.whenSynced()
  return handle
}

export function waitAcknowledged(handle: CommentsHandle, message = 'all changes acknowledged'): Promise<void> {
  return waitFor(() => handle.synced && handle.sending === 0, message)
}

/** The plain JSON of a document's threads: what every replica must agree on. */
export function threadsJson(doc: Y.Doc): string {
  return JSON.stringify(readThreads(doc))
}

export function handleJson(handle: CommentsHandle): string {
  return JSON.stringify(handle.threads())
}
