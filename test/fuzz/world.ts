/**
 * The fuzz world: in-memory replicas (each a user's device with its own Y.Doc), the server
 * (test/fuzz/server.ts) and the network between them: per replica, one FIFO queue to the server
 * and one from it (a WebSocket keeps order; a `reorder` action lets an update overtake the one
 * before it, as the guard allows, and `resend` sends one again), emptied when the replica goes offline. Reconnecting
 * is the provider's handshake: the server's sync step 2 for the replica's state vector, and the
 * replica's sync step 2 for the server's. Everything that happens is an {@link Action}; a list of
 * actions replays exactly (client ids, ids and times are part of the script, not drawn).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as Y from 'yjs'
import { ErrorCode, ParleyError, readFollowers, readThreads } from '../../protocol/index.ts'
import { perform, type Operation } from './operations.ts'
import { FROM_SERVER, Replica, type ReplicaSpec } from './replica.ts'
import { FuzzServer, type Sender } from './server.ts'

export type { ReplicaSpec } from './replica.ts'

export type Action =
  | { t: 'op'; r: number; op: Operation; a: number; b: number }
  | { t: 'up'; r: number }
  | { t: 'down'; r: number }
  | { t: 'offline'; r: number }
  | { t: 'reorder'; r: number }
  | { t: 'resend'; r: number }
  | { t: 'online'; r: number }
  | { t: 'compact' }
  | { t: 'restart' }

/**
 * Deliberate faults, for showing that the checks catch them: the n-th delivery from the server to
 * a replica that carries new structs is lost (not applied), or the n-th update the server takes is
 * not stored (1-based).
 */
export interface Sabotage {
  loseDelivery?: number
  loseAppend?: number
}

/** Everything a run needs: replaying the same script gives the same run. */
export interface Script {
  replicas: ReplicaSpec[]
  /** Client id of the server's own writes; each load after a restart or unload adds 1. */
  serverClientId: number
  actions: Action[]
}

/**
 * An honest write the server refused. After `out_of_sync` the replica resyncs (a new handshake
 * with the same document); after any other code it rebuilds its document, as the SDK does.
 */
export interface RefusedWrite {
  step: number
  replica: string
  write: string
  code: string
  reason: string
  /** An update of the same connection had overtaken another before it. */
  afterReorder: boolean
}

/** What stops a run: the schema writer refused an operation chosen to be valid, or the server threw. */
export type Failure = { kind: 'local'; step: number; replica: string; write: string; message: string } | { kind: 'server'; step: number; message: string }

/** Times start here and move 1 s per action. */
const EPOCH = 1_700_000_000_000

export class World {
  readonly replicas: Replica[]
  server!: FuzzServer
  failure: Failure | null = null
  readonly refusals: RefusedWrite[] = []
  readonly log: string[] = []
  private readonly dir: string
  private restarts = 0
  private step = 0
  private deliveries = 0
  private readonly script: Pick<Script, 'replicas' | 'serverClientId'>
  private readonly sabotage: Sabotage

  private constructor(script: Pick<Script, 'replicas' | 'serverClientId'>, sabotage: Sabotage) {
    this.script = script
    this.sabotage = sabotage
    this.replicas = script.replicas.map((spec, i) => new Replica(spec, i))
    this.dir = mkdtempSync(path.join(tmpdir(), 'parley-fuzz-'))
  }

  static async create(script: Pick<Script, 'replicas' | 'serverClientId'>, sabotage: Sabotage = {}): Promise<World> {
    const world = new World(script, sabotage)
    const broadcast = (update: Uint8Array, origin: Sender | null) => {
      for (const replica of world.replicas) if (replica.online && replica !== origin) replica.down.push(update)
    }
    world.server = await FuzzServer.start(path.join(world.dir, 'parley.db'), script.serverClientId, broadcast, sabotage.loseAppend)
    return world
  }

  private now(): number {
    return EPOCH + this.step * 1000
  }

  /** Applies one action; an action whose replica has nothing to do is a no-op. Stops at the first failure. */
  async apply(action: Action): Promise<void> {
    if (this.failure) return
    this.step++
    try {
      await this.run(action)
    } catch (error) {
      this.failure = { kind: 'server', step: this.step, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }
    }
  }

  private async run(action: Action): Promise<void> {
    switch (action.t) {
      case 'op': {
        const replica = this.replicas[action.r]
        if (!replica) return
        const ctx = { doc: replica.doc, userId: replica.userId, now: () => this.now(), newId: () => replica.newId(), moderator: replica.role === 'moderate' }
        replica.doing = `${action.op} (step ${this.step})`
        try {
          const done = perform(ctx, action.op, action.a, action.b)
          if (done) this.log.push(`${this.step} ${replica.name} ${done}${replica.online ? '' : ' (offline)'}`)
        } catch (error) {
          if (!(error instanceof ParleyError)) throw error
          this.failure = { kind: 'local', step: this.step, replica: replica.name, write: replica.doing, message: `${error.code}: ${error.message}` }
        }
        return
      }
      case 'up': {
        const replica = this.replicas[action.r]
        const message = replica?.online ? replica.up.shift() : undefined
        if (!replica || !message) return
        replica.lastSent = message
        const refusal = await this.server.receive(replica, message.update)
        this.log.push(
          `${this.step} ${replica.name} → server ${message.step2 ? 'step2' : 'update'} [${message.write}]${refusal ? ` REFUSED ${refusal.code}: ${refusal.reason}` : ''}`,
        )
        if (refusal) {
          this.refusals.push({ step: this.step, replica: replica.name, write: message.write, ...refusal, afterReorder: replica.reordered })
          // Hocuspocus ends the session. `out_of_sync`: open it again (the handshake sends every
          // change again); otherwise the SDK rebuilds its document from the server's first.
          this.disconnect(replica)
          if (refusal.code !== ErrorCode.OutOfSync) replica.rebuild(this.server.doc)
          this.connect(replica)
        }
        return
      }
      case 'down': {
        const replica = this.replicas[action.r]
        const update = replica?.online ? replica.down.shift() : undefined
        if (!replica || !update) return
        const news = carriesNews(update, Y.encodeStateVector(replica.doc))
        if (news && ++this.deliveries === this.sabotage.loseDelivery) {
          this.log.push(`${this.step} server → ${replica.name} LOST (sabotage)`)
          return
        }
        Y.applyUpdate(replica.doc, update, FROM_SERVER)
        this.log.push(`${this.step} server → ${replica.name}${news ? '' : ' (no new structs)'}`)
        return
      }
      case 'reorder': {
        // An update overtakes the one before it (as through another path: a relay, a resend).
        const replica = this.replicas[action.r]
        const [first, second] = replica?.online ? replica.up : []
        if (!replica || !first || !second) return
        replica.up.splice(0, 2, second, first)
        replica.reordered = true
        this.log.push(`${this.step} ${replica.name}: [${second.write}] overtakes [${first.write}]`)
        return
      }
      case 'resend': {
        // The last update the server took comes again, after what is queued (a client that
        // resends what it has no acknowledgement for): nothing new, nothing refused.
        const replica = this.replicas[action.r]
        const last = replica?.online ? replica.lastSent : undefined
        if (!replica || !last) return
        // A new message: its own bytes (Hocuspocus decodes every frame into a new payload).
        replica.up.push({ ...last, update: last.update.slice(), write: `resend of ${last.write}` })
        this.log.push(`${this.step} ${replica.name} resends [${last.write}]`)
        return
      }
      case 'offline': {
        const replica = this.replicas[action.r]
        if (!replica?.online) return
        this.disconnect(replica)
        this.log.push(`${this.step} ${replica.name} offline`)
        if (this.replicas.every((r) => !r.online)) {
          // Hocuspocus unloads a document its last connection left; the next one loads it again.
          await this.server.load(this.script.serverClientId + ++this.restarts)
          this.log.push(`${this.step} unload (nobody online)`)
        }
        return
      }
      case 'online': {
        const replica = this.replicas[action.r]
        if (!replica || replica.online) return
        this.connect(replica)
        this.log.push(`${this.step} ${replica.name} online`)
        return
      }
      case 'compact':
        await this.server.compact()
        this.log.push(`${this.step} compact`)
        return
      case 'restart':
        for (const replica of this.replicas) if (replica.online) this.disconnect(replica)
        await this.server.load(this.script.serverClientId + ++this.restarts)
        this.log.push(`${this.step} restart (every replica offline)`)
        return
    }
  }

  private disconnect(replica: Replica): void {
    replica.online = false
    replica.up.length = 0
    replica.down.length = 0
  }

  /** The provider's handshake: each side's sync step 2 for the other's state vector. */
  private connect(replica: Replica): void {
    const server = this.server.doc
    replica.online = true
    replica.reordered = false
    replica.down.push(Y.encodeStateAsUpdate(server, Y.encodeStateVector(replica.doc)))
    replica.up.push({ update: Y.encodeStateAsUpdate(replica.doc, Y.encodeStateVector(server)), step2: true, write: `sync step 2 (step ${this.step})` })
  }

  /** Every replica online, every queue delivered (round robin), until nothing moves. */
  async settle(): Promise<void> {
    for (const [r, replica] of this.replicas.entries()) if (!replica.online) await this.apply({ t: 'online', r })
    for (let round = 0; round < 10_000 && !this.failure; round++) {
      const busy = this.replicas.some((replica) => replica.up.length > 0 || replica.down.length > 0)
      if (!busy) return
      for (const [r, replica] of this.replicas.entries()) {
        while (replica.up.length > 0 && !this.failure) await this.apply({ t: 'up', r })
        while (replica.down.length > 0 && !this.failure) await this.apply({ t: 'down', r })
      }
    }
  }

  async dispose(): Promise<void> {
    await this.server.close().catch(() => undefined)
    for (const replica of this.replicas) replica.doc.destroy()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Whether an update holds structs the state vector does not cover. */
function carriesNews(update: Uint8Array, stateVector: Uint8Array): boolean {
  return Y.decodeUpdate(Y.diffUpdate(update, stateVector)).structs.length > 0
}

/** What convergence compares: state vector, pending structs and typed reads. */
export interface DocumentView {
  stateVector: Record<string, number>
  pending: boolean
  threads: string
  followers: string
}

export function viewOf(doc: Y.Doc): DocumentView {
  const stateVector = Object.fromEntries(
    [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort(([a], [b]) => a - b).map(([client, clock]) => [String(client), clock]),
  )
  return {
    stateVector,
    pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
    threads: JSON.stringify(readThreads(doc)),
    followers: JSON.stringify(readFollowers(doc)),
  }
}
