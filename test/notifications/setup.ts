/** Shared set-up for mention and notification tests: a subject with members and a directory. */
import * as Y from 'yjs'
import type { ParleyEvent, ParleyEventType } from '../../core/events.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'
import type { ParleyServerOptions } from '../../server/server.ts'
import type { Backend } from '../access/backends.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** Members of every test subject, with their handles; `zed` is in the directory but no member. */
export const PEOPLE: Record<string, string> = { ana: 'ana', ben: 'ben', cid: 'cid', dan: 'dan', zoe: 'zoë', ming: '小明', ex: 'example', zed: 'zed' }
export const MEMBERS = ['ana', 'ben', 'cid', 'dan', 'zoe', 'ming', 'ex']

export interface World {
  s: TestServer
  clients: TestClient[]
  events: ParleyEvent[]
  /** A synced provider for `comments/<subjectId>` as `userId`. */
  open(subjectId: string, userId: string, doc?: Y.Doc): Promise<TestClient>
  /** Every notification of a user, from storage, newest first. */
  notifications(userId: string): Promise<NotificationRecord[]>
  eventsOf<T extends ParleyEventType>(type: T): Array<ParleyEvent<T>>
  dispose(): Promise<void>
}

/** Registers the subject (no default role) with {@link MEMBERS} as commenters, except `moderators`. */
export async function registerSubject(s: TestServer, subjectId: string, moderators: readonly string[] = []): Promise<void> {
  for (const userId of MEMBERS) {
    const role = moderators.includes(userId) ? 'moderate' : 'comment'
    const answer = await rest(s, 'PUT', `/api/v1/subjects/${subjectId}/members/${userId}`, { bearer: TEST_API_KEY, json: { role } })
    if (answer.status !== 200) throw new Error(`member ${userId}: ${answer.status}`)
  }
}

export async function startWorld(options: ParleyServerOptions = {}, backend?: Backend): Promise<World> {
  const s = await (backend ? backend.startServer({ apiKey: TEST_API_KEY, ...options }) : startServer({ apiKey: TEST_API_KEY, ...options }))
  for (const [userId, handle] of Object.entries(PEOPLE)) {
    await rest(s, 'PUT', `/api/v1/users/${userId}`, { bearer: TEST_API_KEY, json: { name: userId.toUpperCase(), handle } })
  }
  const events: ParleyEvent[] = []
  s.server.events.onAny((event) => {
    events.push(event)
  })
  const clients: TestClient[] = []
  return {
    s,
    clients,
    events,
    async open(subjectId, userId, doc) {
      // Tokens without an access claim: membership decides, as for a real integrator.
      const client = await connectSynced(s.server.webSocketUrl, `comments/${subjectId}`, await s.token(userId, { access: {} }), doc)
      clients.push(client)
      return client
    },
    notifications: (userId) => s.server.storage.notifications.list(userId, { unreadOnly: false, limit: 100, after: null }),
    eventsOf: <T extends ParleyEventType>(type: T) => events.filter((e): e is ParleyEvent<T> => e.type === type),
    async dispose() {
      for (const c of clients.splice(0)) c.destroy()
      await s.dispose()
    },
  }
}

/** Waits until the user has `count` notifications (and returns them). */
export async function waitForNotifications(
  world: World,
  userId: string,
  count: number,
  what = `${count} notifications for ${userId}`,
): Promise<NotificationRecord[]> {
  let found: NotificationRecord[] = []
  await waitFor(async () => (found = await world.notifications(userId)).length >= count, what)
  return found
}

/** A copy of a document's state: an offline replica that will sync later. */
export function offlineCopy(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}
