/**
 * Presence after a kill -9 (issue 21): a user connected to an instance that dies without shutting
 * down stops being online and present on the other instance within the documented bound
 * (`PRESENCE_ENTRY_TTL_MS` after its last heartbeat), with real processes and default timing.
 */
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { PRESENCE_ENTRY_TTL_MS } from '../../server/scaling/presence.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'

/** Looks every {@link LOOK_MS} (REST is rate limited per user) until `condition` holds, or throws after `timeoutMs`. */
const LOOK_MS = 250
async function slowly(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, LOOK_MS))
  }
}

describe('presence after an instance is killed', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('a killed instance’s user is offline and absent elsewhere within the entry expiry', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const secret = newSecret()
    const env = () => {
      const dataDir = tempDir()
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }))
      return { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: schema.url, REDIS_URL }
    }
    const [one, two] = await Promise.all([startChild(env()), startChild(env())])
    children.push(one, two)
    const ben = `ben-${randomUUID()}`
    const subjectId = `killed-${randomUUID()}`
    const client = await connectSynced(two.webSocketUrl, `comments/${subjectId}`, await tokenFor(secret, ben))
    clients.push(client)
    client.provider.setAwarenessField('user', { id: ben, name: 'Ben' })
    client.provider.setAwarenessField('status', 'active')

    const asker = await tokenFor(secret, 'ana')
    const ask = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${one.httpUrl}${path}`, { headers: { authorization: `Bearer ${asker}` } })
      const body = (await response.json()) as T
      if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`)
      return body
    }
    const online = async () => (await ask<{ online: boolean }>(`/api/v1/users/${ben}/presence`)).online
    const present = async () => (await ask<{ users: Array<{ id: string }> }>(`/api/v1/subjects/${subjectId}/presence`)).users.map((u) => u.id)
    await slowly(async () => (await online()) && (await present()).includes(ben), 'ben online and present on instance one', 10_000)

    two.process.kill('SIGKILL')
    const killedAt = Date.now()
    expect(await two.exited).toBeNull()
    await slowly(async () => !(await online()) && (await present()).length === 0, 'ben gone from instance one', PRESENCE_ENTRY_TTL_MS + 10_000)
    const gone = Date.now() - killedAt
    // The bound: the entry expiry after the last write, plus one look of this test and its REST answers.
    expect(gone).toBeLessThanOrEqual(PRESENCE_ENTRY_TTL_MS + LOOK_MS + 1_500)
    console.log(`ben gone from instance one ${gone} ms after the kill (bound ${PRESENCE_ENTRY_TTL_MS} ms)`)
  }, 60_000)
})
