/**
 * Drives the fuzz world from a seed: a lib0 PRNG picks each action (an operation, which queue
 * delivers next, an update overtaking or sent again, who goes offline or comes back, compaction,
 * a restart) from the world's state,
 * and the actions taken are recorded as a {@link Script} that replays exactly. After the actions,
 * every replica comes back online and every queue is delivered; then the replicas, the server's
 * document and the document loaded from storage must agree.
 */
import * as prng from 'lib0/prng'
import * as Y from 'yjs'
import { CommentField, findComment, getThread, readThreads } from '../../protocol/index.ts'
import type { Operation } from './operations.ts'
import { viewOf, World, type Action, type DocumentView, type Failure, type RefusedWrite, type ReplicaSpec, type Sabotage, type Script } from './world.ts'

export interface FuzzOptions {
  /** Actions drawn before the world settles. */
  steps: number
  /** Whether restarts are drawn (each takes every replica offline). */
  restarts: boolean
}

export const DEFAULT_OPTIONS: FuzzOptions = { steps: 200, restarts: true }

/** The users and devices of every run: ana on two devices (so one user's writes race), a moderator. */
const DEVICES: ReadonlyArray<Omit<ReplicaSpec, 'clientId'>> = [
  { userId: 'ana', role: 'comment' },
  { userId: 'ana', role: 'comment' },
  { userId: 'ben', role: 'comment' },
  { userId: 'cid', role: 'comment' },
  { userId: 'mod', role: 'moderate' },
]

/** Operation weights: writes people make often come up often. */
const OPERATION_WEIGHTS: Record<Operation, number> = {
  createThread: 4,
  reply: 10,
  edit: 6,
  delete: 3,
  react: 5,
  unreact: 3,
  resolve: 2,
  reopen: 2,
  markRead: 3,
  subscribe: 2,
  mute: 1,
  follow: 1,
  unfollow: 1,
  hide: 2,
  host: 1,
}

function weighted<T extends string>(gen: prng.PRNG, weights: Record<T, number>): T {
  const entries = Object.entries(weights) as Array<[T, number]>
  let n = prng.int32(
    gen,
    1,
    entries.reduce((sum, [, w]) => sum + w, 0),
  )
  for (const [key, weight] of entries) {
    n -= weight
    if (n <= 0) return key
  }
  return entries[0]![0]
}

function uint32(gen: prng.PRNG): number {
  return prng.uint32(gen, 1, 0xffff_fffe)
}

/** Chooses the next action from the world's state. */
function draw(gen: prng.PRNG, world: World, options: FuzzOptions): Action {
  const indexes = (test: (r: World['replicas'][number]) => boolean) => world.replicas.flatMap((replica, r) => (test(replica) ? [r] : []))
  const kind = weighted(gen, { op: 34, up: 26, down: 26, reorder: 3, resend: 2, offline: 4, online: 6, compact: 2, restart: options.restarts ? 1 : 0 })
  const among = (list: number[]) => (list.length > 0 ? prng.oneOf(gen, list) : null)
  switch (kind) {
    case 'up': {
      const r = among(indexes((x) => x.online && x.up.length > 0))
      if (r !== null) return { t: 'up', r }
      break
    }
    case 'down': {
      const r = among(indexes((x) => x.online && x.down.length > 0))
      if (r !== null) return { t: 'down', r }
      break
    }
    case 'reorder': {
      const r = among(indexes((x) => x.online && x.up.length > 1))
      if (r !== null) return { t: 'reorder', r }
      break
    }
    case 'resend': {
      const r = among(indexes((x) => x.online && x.lastSent !== undefined))
      if (r !== null) return { t: 'resend', r }
      break
    }
    case 'offline': {
      const r = among(indexes((x) => x.online))
      if (r !== null) return { t: 'offline', r }
      break
    }
    case 'online': {
      const r = among(indexes((x) => !x.online))
      if (r !== null) return { t: 'online', r }
      break
    }
    case 'compact':
      return { t: 'compact' }
    case 'restart':
      return { t: 'restart' }
    case 'op':
      break
  }
  return { t: 'op', r: prng.int32(gen, 0, world.replicas.length - 1), op: weighted(gen, OPERATION_WEIGHTS), a: uint32(gen), b: uint32(gen) }
}

export interface RunResult {
  script: Script
  failure: Failure | null
  refusals: RefusedWrite[]
  /** Views of every replica, the server's document and the stored one (after settling). */
  views: Array<{ who: string; view: DocumentView }>
  /** Deleted comments whose body still holds words on the server. */
  undeletedWords: string[]
  log: string[]
}

async function finish(world: World, script: Script): Promise<RunResult> {
  try {
    await world.settle()
    const views = world.replicas.map((replica) => ({ who: replica.name, view: viewOf(replica.doc) }))
    views.push({ who: 'server', view: viewOf(world.server.doc) })
    const stored = await world.server.stored()
    views.push({ who: 'storage', view: viewOf(stored) })
    stored.destroy()
    const undeletedWords = deletedWithWords(world)
    return { script, failure: world.failure, refusals: world.refusals, views, undeletedWords, log: world.log }
  } finally {
    await world.dispose()
  }
}

function deletedWithWords(world: World): string[] {
  const out: string[] = []
  for (const thread of readThreads(world.server.doc)) {
    const map = getThread(world.server.doc, thread.id)
    for (const comment of thread.comments) {
      const body = findComment(map, comment.id).get(CommentField.body)
      if (comment.deletedAt !== null && body instanceof Y.Text && body.length > 0) out.push(`${thread.id}/${comment.id}`)
    }
  }
  return out
}

/** The devices and client ids a seed starts with (its first draws), and no actions yet. */
function startOf(gen: prng.PRNG): Script {
  return { replicas: DEVICES.map((device) => ({ ...device, clientId: uint32(gen) })), serverClientId: uint32(gen), actions: [] }
}

/** A seed's script with the given actions (a minimised one, for instance). */
export function scriptOf(seed: number, actions: Action[]): Script {
  return { ...startOf(prng.create(seed)), actions }
}

/** A run from a seed: the script is drawn as it goes. */
export async function runSeed(seed: number, options: FuzzOptions = DEFAULT_OPTIONS): Promise<RunResult> {
  const gen = prng.create(seed)
  const script = startOf(gen)
  const world = await World.create(script)
  for (let i = 0; i < options.steps && !world.failure; i++) {
    const action = draw(gen, world, options)
    script.actions.push(action)
    await world.apply(action)
  }
  return finish(world, script)
}

/** A run from a recorded script (a seed's, or a minimised one). */
export async function replay(script: Script, sabotage?: Sabotage): Promise<RunResult> {
  const world = await World.create(script, sabotage)
  for (const action of script.actions) await world.apply(action)
  return finish(world, script)
}
