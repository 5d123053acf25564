/**
 * Pieces the failure drills share (test/drills/): writers that record which of their comments the
 * server acknowledged, and comparisons of what each instance holds.
 */
import * as Y from 'yjs'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import type { CommentsHandle } from '../../client/comments.ts'
import { readThreads } from '../../protocol/index.ts'
import { TEST_RECONNECT } from './sdk.ts'
import { tokenFor } from './tokens.ts'
import { waitFor } from './wait.ts'

/** How long one write may stay unacknowledged: a drill's outage and the client's reconnect fit in it. */
export const ACK_TIMEOUT_MS = 30_000

/** An SDK client writing comments into its own thread, one at a time, each awaited until acknowledged. */
export class Writer {
  readonly acked: string[] = []
  /** Texts sent but not (yet) acknowledged. */
  inFlight: string | undefined
  private running: Promise<void> | undefined
  private stopping = false
  private count = 0

  readonly name: string
  readonly client: ParleyClient
  readonly handle: CommentsHandle
  readonly threadId: string

  private constructor(name: string, client: ParleyClient, handle: CommentsHandle, threadId: string) {
    this.name = name
    this.client = client
    this.handle = handle
    this.threadId = threadId
  }

  static async open(url: string, secret: string, userId: string, subjectId: string): Promise<Writer> {
    const client = await createParleyClient({ url, token: await tokenFor(secret, userId), reconnect: TEST_RECONNECT })
    const handle = client.comments(subjectId)
    await handle.whenSynced()
    const first = `${userId}:0`
    const { threadId } = handle.createThread(first)
    const writer = new Writer(userId, client, handle, threadId)
    await writer.acknowledged(first)
    writer.count = 1
    return writer
  }

  private async acknowledged(text: string): Promise<void> {
    this.inFlight = text
    await waitFor(() => this.handle.synced && this.handle.sending === 0, `${text} acknowledged`, ACK_TIMEOUT_MS)
    this.acked.push(text)
    this.inFlight = undefined
  }

  /** One more comment, resolved once acknowledged. */
  async write(): Promise<void> {
    const text = `${this.name}:${this.count++}`
    this.handle.reply(this.threadId, text)
    await this.acknowledged(text)
  }

  /** Writes until {@link stop}; a write in flight when stopping is still awaited. */
  start(): void {
    this.stopping = false
    this.running = (async () => {
      while (!this.stopping) await this.write()
    })()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.running
    this.running = undefined
  }

  /** Resolves once `more` further writes were acknowledged (or the writer failed). */
  async waitForMore(more: number, timeoutMs = ACK_TIMEOUT_MS): Promise<void> {
    const target = this.acked.length + more
    await waitFor(() => this.acked.length >= target, `${this.name}: ${more} more acknowledged writes`, timeoutMs)
  }
}

/** Every comment text of every thread of a document. */
export function allTexts(doc: Y.Doc): Set<string> {
  return new Set(readThreads(doc).flatMap((thread) => thread.comments.map((comment) => comment.text)))
}

/** The acknowledged texts `doc` lacks. */
export function missing(doc: Y.Doc, writers: readonly Writer[]): string[] {
  const texts = allTexts(doc)
  return writers.flatMap((writer) => writer.acked.filter((text) => !texts.has(text)))
}

/** A state vector as comparable text (client id → clock, sorted). */
export function stateVector(doc: Y.Doc): string {
  const vector = Y.decodeStateVector(Y.encodeStateVector(doc))
  return JSON.stringify([...vector.entries()].sort(([a], [b]) => a - b))
}

export async function closeWriters(writers: readonly Writer[]): Promise<void> {
  await Promise.all(writers.map((writer) => writer.client.close()))
}
