/**
 * The outbox's lanes on real SQLite: the first channel (the inbox) goes first. A round of another
 * channel (push, email) starts only once the inbox lane is idle, or after OUTBOX_YIELD_MAX_MS
 * when the inbox stays busy; and a slow push lane never holds up the inbox.
 */
import { rmSync } from 'node:fs'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createOutbox, OUTBOX_YIELD_MAX_MS, type Outbox } from '../../core/notifications/outbox.ts'
import type { Deliverer, RowOutcome } from '../../core/notifications/projector.ts'
import type { OutboxRow, Storage } from '../../core/storage/types.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const CHANNELS = ['inbox', 'push']

/** Records one mention for each user, queued on both channels. */
async function notify(storage: Storage, users: readonly string[]): Promise<void> {
  await storage.notifications.record({
    mentions: users.map((userId, i) => ({
      subjectId: 's1',
      commentId: `c-${userId}`,
      userId,
      outcome: 'notified' as const,
      activity: {
        key: { kind: 'mention', subjectId: 's1', commentId: `c-${userId}`, recipient: userId },
        commentId: `c-${userId}`,
        notificationId: `m-${userId}`,
        fold: false,
        kind: 'mention',
        priority: 'high',
        threadId: 't1',
        actor: 'ana',
        preview: 'hi',
        at: 1_000 + i,
      },
    })),
    comments: [],
    channels: CHANNELS,
  })
}

/** A deliverer that notes when each round starts and ends and takes `ms` per round. */
function timedDeliverer(log: string[], name: string, ms: () => number): Deliverer {
  return {
    async deliver(rows: readonly OutboxRow[]): Promise<RowOutcome[]> {
      log.push(`${name} start`)
      await new Promise((resolve) => setTimeout(resolve, ms()))
      log.push(`${name} end`)
      return rows.map(() => null)
    },
  }
}

describe('outbox lanes (core/notifications/outbox.ts)', () => {
  let storage: SqliteStorage | undefined
  let outbox: Outbox | undefined
  let dir = ''
  afterEach(async () => {
    await outbox?.stop()
    await storage?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('starts a push round only after the inbox round under way has finished', async () => {
    dir = tempDir('parley-outbox-')
    storage = SqliteStorage.inDataDir(dir)
    await notify(storage, ['ben', 'cy'])
    const log: string[] = []
    outbox = createOutbox({
      storage,
      channels: { inbox: timedDeliverer(log, 'inbox', () => 300), push: timedDeliverer(log, 'push', () => 0) },
      logger: pino({ level: 'silent' }),
    })
    outbox.start()
    await waitFor(() => log.includes('push end'), 'the push round')
    expect(log.slice(0, 3)).toEqual(['inbox start', 'inbox end', 'push start'])
  })

  it('does not wait for a busy inbox longer than OUTBOX_YIELD_MAX_MS, and a slow push never holds up the inbox', async () => {
    dir = tempDir('parley-outbox-')
    storage = SqliteStorage.inDataDir(dir)
    await notify(storage, ['ben'])
    const log: string[] = []
    const started = performance.now()
    let pushStartedAt = 0
    outbox = createOutbox({
      storage,
      channels: {
        inbox: timedDeliverer(log, 'inbox', () => 3 * OUTBOX_YIELD_MAX_MS),
        push: {
          async deliver(rows) {
            pushStartedAt = performance.now()
            log.push('push start')
            await new Promise((resolve) => setTimeout(resolve, 4 * OUTBOX_YIELD_MAX_MS))
            log.push('push end')
            return rows.map(() => null)
          },
        },
      },
      logger: pino({ level: 'silent' }),
    })
    outbox.start()
    await waitFor(() => log.includes('push start'), 'the push round starts while the inbox is still busy', 3 * OUTBOX_YIELD_MAX_MS)
    expect(log).toEqual(['inbox start', 'push start'])
    expect(pushStartedAt - started).toBeGreaterThanOrEqual(OUTBOX_YIELD_MAX_MS - 50)
    // The inbox finishes its round and takes the next while push is still sending.
    await notify(storage, ['cy'])
    outbox.kick()
    await waitFor(() => log.filter((entry) => entry === 'inbox start').length === 2, 'a second inbox round', 6 * OUTBOX_YIELD_MAX_MS)
    expect(log.includes('push end')).toBe(false)
  })
})
