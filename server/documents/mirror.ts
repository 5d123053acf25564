/**
 * Scratch copies of live documents for server-side writes, kept in step with the live document
 * instead of being copied for every write.
 *
 * A schema writer needs the whole document to act on (it finds a thread, a comment, the last
 * element of an array), and Yjs cannot build a partial document: a struct integrates only after
 * every earlier struct of its client and its origins, so a store holding only "the items a write
 * needs" leaves them pending. So a write runs on a full copy, but the copy is made once per loaded
 * document: it follows the live document's `update` events, which carry every change the live
 * document integrates (socket writes, relayed writes, server-side writes, this writer's own).
 *
 * A computed change that is then refused (or a writer that throws after writing) leaves the copy
 * ahead of the live document; such a copy is discarded, and the next write makes a new one.
 * A copy is also dropped when the live document is destroyed (unloaded) and after
 * {@link MIRROR_IDLE_MS} without writes, so it costs memory only while REST writes come in.
 */
import * as random from 'lib0/random'
import * as Y from 'yjs'

/** A scratch copy unused for this long is dropped (its memory is the live document's again). */
export const MIRROR_IDLE_MS = 30_000

/** Transaction origin of live updates applied to the copy. */
const FOLLOW = Symbol('parley.mirror.follow')

export interface Computed<T> {
  value: T
  /** Everything `compute` wrote, as one update; `null` when it wrote nothing. */
  update: Uint8Array | null
}

class Mirror {
  readonly copy = new Y.Doc()
  private readonly live: Y.Doc
  private readonly follow = (update: Uint8Array) => Y.applyUpdate(this.copy, update, FOLLOW)
  private readonly onDestroy = () => this.dispose()
  private readonly onDispose: () => void
  private readonly idleMs: number
  private idle: ReturnType<typeof setTimeout> | undefined
  private disposed = false

  constructor(live: Y.Doc, idleMs: number, onDispose: () => void) {
    this.live = live
    this.idleMs = idleMs
    this.onDispose = onDispose
    Y.applyUpdate(this.copy, Y.encodeStateAsUpdate(live), FOLLOW)
    live.on('update', this.follow)
    live.on('destroy', this.onDestroy)
  }

  /**
   * Runs `compute` on the copy under a client id that neither document has used, and returns
   * what it wrote. The copy then holds the change: apply it to the live document or discard the copy.
   */
  compute<T>(compute: (scratch: Y.Doc) => T): Computed<T> {
    this.touch()
    this.copy.clientID = freshClientId(this.live, this.copy)
    const updates: Uint8Array[] = []
    const capture = (update: Uint8Array, origin: unknown) => {
      if (origin !== FOLLOW) updates.push(update)
    }
    this.copy.on('update', capture)
    try {
      const value = compute(this.copy)
      return { value, update: updates.length === 0 ? null : Y.mergeUpdates(updates) }
    } catch (error) {
      if (updates.length > 0) this.dispose()
      throw error
    } finally {
      this.copy.off('update', capture)
    }
  }

  private touch(): void {
    clearTimeout(this.idle)
    this.idle = setTimeout(() => this.dispose(), this.idleMs)
    this.idle.unref()
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    clearTimeout(this.idle)
    this.live.off('update', this.follow)
    this.live.off('destroy', this.onDestroy)
    this.copy.destroy()
    this.onDispose()
  }
}

function freshClientId(...docs: Y.Doc[]): number {
  for (;;) {
    const id = random.uint32()
    if (!docs.some((doc) => doc.store.clients.has(id))) return id
  }
}

/** The scratch copies of the live documents, one per live document. */
export class Mirrors {
  private readonly mirrors = new WeakMap<Y.Doc, Mirror>()
  private readonly idleMs: number
  private count = 0

  /** `idleMs`: a copy unused this long is dropped ({@link MIRROR_IDLE_MS} by default). */
  constructor(idleMs: number = MIRROR_IDLE_MS) {
    this.idleMs = idleMs
  }

  /** The copy of `live`, made now if there is none. */
  private of(live: Y.Doc): Mirror {
    let mirror = this.mirrors.get(live)
    if (!mirror) {
      mirror = new Mirror(live, this.idleMs, () => {
        if (this.mirrors.get(live) === mirror) {
          this.mirrors.delete(live)
          this.count--
        }
      })
      this.mirrors.set(live, mirror)
      this.count++
    }
    return mirror
  }

  /** Runs `compute` on the copy of `live` (see {@link Mirror.compute}). */
  compute<T>(live: Y.Doc, compute: (scratch: Y.Doc) => T): Computed<T> {
    return this.of(live).compute(compute)
  }

  /** Drops the copy of `live`: it holds a change the live document will not get. */
  discard(live: Y.Doc): void {
    this.mirrors.get(live)?.dispose()
  }

  /** Copies currently kept (for tests and metrics). */
  get size(): number {
    return this.count
  }
}
