/**
 * The server writer's compute-check-apply path, on a bare Hocuspocus: the check (the write
 * guard's hook point) sees the whole computed update, the live document and the actor before
 * anything is applied; a refusal or a refused writer leaves the live document untouched.
 */
import { Hocuspocus } from '@hocuspocus/server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, readThreads, reply } from '../../protocol/index.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import { allowEveryUpdate, createServerWriter, type UpdateCheck, type UpdateCheckInput } from '../../server/documents/write.ts'

const ana: ParleyUser = { id: 'ana', name: 'Ana', handle: undefined, access: undefined, expiresAt: undefined }
const name = 'comments/scratch'

type DirectConnection = Awaited<ReturnType<Hocuspocus['openDirectConnection']>>

describe('server writer', () => {
  let hocuspocus: Hocuspocus
  let holder: DirectConnection
  let live: Y.Doc
  const seen: UpdateCheckInput[] = []
  const stored: string[] = []
  const writerWith = (check: UpdateCheck) =>
    createServerWriter({
      hocuspocus,
      checkUpdate: (input) => {
        seen.push(input)
        return check(input)
      },
      whenStored: async (documentName) => {
        stored.push(documentName)
      },
    })

  beforeEach(async () => {
    seen.length = 0
    stored.length = 0
    hocuspocus = new Hocuspocus({ quiet: true })
    // Keeps the document loaded, so that the test sees the live document across writes.
    holder = await hocuspocus.openDirectConnection(name)
    live = holder.document!
  })
  afterEach(async () => {
    await holder.disconnect()
  })

  it('applies an allowed write as the actor, in one local transaction, and waits for storage', async () => {
    const origins: unknown[] = []
    live.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin))
    const result = await writerWith(allowEveryUpdate).write(name, { user: ana, role: 'comment' }, (doc) => createThread({ doc, userId: 'ana' }, 'hello'))
    expect(result.ok).toBe(true)
    const threads = readThreads(live)
    expect(threads.map((t) => [t.createdBy, t.comments[0]?.text])).toEqual([['ana', 'hello']])
    expect(result.ok && result.value.threadId).toBe(threads[0]?.id)
    expect(origins).toEqual([{ source: 'local', context: { user: ana, role: 'comment' } }])
    expect(stored).toEqual([name])
  })

  it('shows the check the whole update, the live document and the actor before applying', async () => {
    const refusal = { code: 'write_rejected' as const, message: 'not today' }
    const result = await writerWith(() => refusal).write(name, { user: ana, role: 'comment' }, (doc) => createThread({ doc, userId: 'ana' }, 'hello'))
    expect(result).toEqual({ ok: false, error: refusal })
    expect(readThreads(live)).toEqual([])
    expect(stored).toEqual([])
    expect(seen).toHaveLength(1)
    const input = seen[0]!
    expect(input.document).toBe(live)
    expect(input.actor).toEqual({ user: ana, role: 'comment' })
    // The update is the entire change: applied to a copy of the live document it gives the thread.
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(live))
    Y.applyUpdate(copy, input.update)
    expect(readThreads(copy).map((t) => t.comments[0]?.text)).toEqual(['hello'])
  })

  it('returns a refused writer’s error without checking or applying anything', async () => {
    const result = await writerWith(allowEveryUpdate).write(name, { user: ana, role: 'comment' }, (doc) => reply({ doc, userId: 'ana' }, 'no-thread', 'x'))
    expect(result).toMatchObject({ ok: false, error: { code: 'not_found' } })
    const empty = await writerWith(allowEveryUpdate).write(name, { user: ana, role: 'comment' }, () => 'nothing written')
    expect(empty).toEqual({ ok: true, value: 'nothing written' })
    expect(seen).toEqual([])
    expect(live.getMap('threads').size).toBe(0)
  })

  it('computes on the current state: a reply lands in the thread a previous write created', async () => {
    const writer = writerWith(allowEveryUpdate)
    const first = await writer.write(name, { user: ana, role: 'comment' }, (doc) => createThread({ doc, userId: 'ana' }, 'one'))
    if (!first.ok) throw new Error('first write refused')
    const second = await writer.write(name, { user: ana, role: 'comment' }, (doc) => reply({ doc, userId: 'ana' }, first.value.threadId, 'two'))
    expect(second.ok).toBe(true)
    expect(readThreads(live)[0]?.comments.map((c) => c.text)).toEqual(['one', 'two'])
    // Each write came from its own scratch client id, none of them the live document's.
    const clients = [...Y.decodeStateVector(Y.encodeStateVector(live)).keys()]
    expect(clients).toHaveLength(2)
    expect(clients).not.toContain(live.clientID)
  })
})
