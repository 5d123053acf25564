/**
 * Seeded random convergence: N SDK clients make random operations with random disconnects; at
 * the end every client, the server's document and storage hold the same threads.
 * Replay a failure with `PARLEY_SEED=<seed> npx vitest run test/client/convergence.test.ts`.
 */
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { CommentsHandle } from '../../client/comments.ts'
import type { ParleyClient } from '../../client/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { handleJson, openSynced, sdkClient, threadsJson } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const CLIENTS = 5
const OPERATIONS = 400
const EMOJIS = ['👍', '🎉', '❤️', '👀']
const SEED = Number(process.env.PARLEY_SEED ?? Math.floor(Math.random() * 2 ** 31))

interface Actor {
  userId: string
  client: ParleyClient
  handle: CommentsHandle
  online: boolean
}

type Gen = ReturnType<typeof prng.create>

function pick<T>(gen: Gen, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[prng.int32(gen, 0, items.length - 1)]
}

/** One random operation by `actor`, chosen from what its own replica shows. */
function randomOperation(gen: Gen, actor: Actor): string {
  const { handle, userId } = actor
  const threads = handle.threads()
  const thread = pick(gen, threads)
  const roll = prng.int32(gen, 0, 99)
  if (!thread || roll < 12) {
    handle.createThread(prng.word(gen, 1, 12), { n: roll })
    return 'createThread'
  }
  const comment = pick(gen, thread.comments)
  const own = thread.comments.filter((c) => c.authorId === userId && c.deletedAt === null)
  if (roll < 40) {
    const words = prng.word(gen, 1, 20)
    handle.reply(thread.id, prng.bool(gen) ? words : [{ text: words }, { text: '@u0', mention: 'u0' }], comment?.id)
    return 'reply'
  }
  if (roll < 50 && own.length > 0) {
    handle.edit(thread.id, pick(gen, own)!.id, prng.word(gen, 1, 20))
    return 'edit'
  }
  if (roll < 55 && own.length > 0) {
    handle.delete(thread.id, pick(gen, own)!.id)
    return 'delete'
  }
  if (roll < 70 && comment) {
    const emoji = pick(gen, EMOJIS)!
    if (prng.bool(gen)) handle.react(thread.id, comment.id, emoji)
    else handle.unreact(thread.id, comment.id, emoji)
    return 'reaction'
  }
  if (roll < 76) {
    if (prng.bool(gen)) handle.resolve(thread.id)
    else handle.reopen(thread.id)
    return 'resolve'
  }
  if (roll < 84) {
    handle.markRead(thread.id)
    return 'markRead'
  }
  if (roll < 92) {
    if (prng.bool(gen)) handle.subscribe(thread.id)
    else handle.mute(thread.id)
    return 'subscription'
  }
  if (prng.bool(gen)) handle.follow()
  else handle.unfollow()
  return 'follow'
}

describe('seeded random convergence', () => {
  let s: TestServer | undefined
  const actors: Actor[] = []
  afterEach(async () => {
    for (const a of actors.splice(0)) await a.client.close()
    await s?.dispose()
  })

  it(`${CLIENTS} clients, ${OPERATIONS} random operations with random disconnects converge (seed ${SEED})`, async () => {
    console.log(`convergence seed: ${SEED} (replay with PARLEY_SEED=${SEED})`)
    const gen = prng.create(SEED)
    s = await startServer()
    const subject = `converge-${SEED}`
    let idCounter = 0
    /** Refusals of content (rate limiting and resyncs are allowed: they delay, never drop). */
    const refusals: string[] = []
    for (let i = 0; i < CLIENTS; i++) {
      const userId = `u${i}`
      const client = await sdkClient(s, userId, { newId: () => `id-${SEED}-${idCounter++}` })
      client.on('error', (e) => {
        if (e.code === 'write_rejected' || e.code === 'too_large') refusals.push(`${userId}: ${e.code} ${e.message}`)
      })
      actors.push({ userId, client, handle: await openSynced(client, subject), online: true })
    }
    const counts: Record<string, number> = {}
    for (let op = 0; op < OPERATIONS; op++) {
      const actor = actors[prng.int32(gen, 0, CLIENTS - 1)]!
      if (prng.int32(gen, 0, 99) < 4) {
        // Toggle this client's connection.
        if (actor.online) actor.client.disconnect()
        else actor.client.connect()
        actor.online = !actor.online
        counts.toggle = (counts.toggle ?? 0) + 1
        continue
      }
      const name = randomOperation(gen, actor)
      counts[name] = (counts[name] ?? 0) + 1
      // Let the network interleave with the operations now and then.
      if (prng.int32(gen, 0, 9) === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    for (const actor of actors) if (!actor.online) actor.client.connect()
    await waitFor(() => actors.every((a) => a.handle.synced && a.handle.sending === 0), 'every client acknowledged', 30_000).catch((e: unknown) => {
      console.log(actors.map((a) => [a.userId, a.online, a.client.status, a.handle.synced, a.handle.sending]))
      throw e
    })
    await waitFor(() => actors.every((a) => handleJson(a.handle) === handleJson(actors[0]!.handle)), 'every client holds the same threads', 30_000)
    // Equal threads can come before equal state: a struct that changes nothing visible (a
    // concurrent overwrite, a deletion) may still be on its way to some client.
    const vectors = () => new Set(actors.map((a) => Buffer.from(Y.encodeStateVector(a.handle.doc)).toString('hex')))
    await waitFor(() => vectors().size === 1, 'every client holds the same state vector', 30_000)

    const expected = handleJson(actors[0]!.handle)
    const serverDoc = s.server.hocuspocus.documents.get(`comments/${subject}`)
    expect(serverDoc).toBeDefined()
    expect(threadsJson(serverDoc!)).toBe(expected)
    expect(threadsJson(rebuild(await s.server.storage.documents.load(`comments/${subject}`)))).toBe(expected)
    expect(vectors().size).toBe(1)
    expect(refusals).toEqual([])
    const rejected = await s.server.metrics.registry.getSingleMetric('parley_guard_rejections_total')?.get()
    const contentRefusals = rejected?.values.filter((v) => v.labels.code === 'write_rejected' || v.labels.code === 'too_large') ?? []
    expect(contentRefusals.reduce((sum, v) => sum + v.value, 0)).toBe(0)
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(OPERATIONS)
    expect(counts.toggle ?? 0).toBeGreaterThan(0)
    expect(actors[0]!.handle.threads().length).toBeGreaterThan(0)
  }, 90_000)
})
