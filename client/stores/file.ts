/**
 * A local store in plain files, for Node and mobile-like runtimes: one append-only file per
 * document (records of a 4-byte big-endian length and the update), rewritten as one merged
 * record once it holds {@link FILE_STORE_COMPACT_AFTER} records. The server's acknowledged state
 * vector sits beside it in `<document>.ack`, replaced whole (write and rename).
 */
import { appendFile, mkdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as Y from 'yjs'
import { countUnacknowledged } from './acknowledged.ts'
import type { LocalStore } from './types.ts'

/** Records after which a document's file is rewritten as one merged record. */
export const FILE_STORE_COMPACT_AFTER = 200

const HEADER_BYTES = 4

function record(update: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32BE(update.byteLength)
  return Buffer.concat([header, update])
}

/** The whole records in `data`, and how many bytes they take. */
function parseRecords(data: Buffer): { updates: Uint8Array[]; whole: number } {
  const updates: Uint8Array[] = []
  let offset = 0
  while (offset + HEADER_BYTES <= data.length) {
    const length = data.readUInt32BE(offset)
    const end = offset + HEADER_BYTES + length
    // A record cut short by a crash mid-append is dropped; every record before it is whole.
    if (end > data.length) break
    updates.push(new Uint8Array(data.subarray(offset + HEADER_BYTES, end)))
    offset = end
  }
  return { updates, whole: offset }
}

export class FileStore implements LocalStore {
  private readonly dir: string
  /** Per-document chain of file operations, so that appends and rewrites never interleave. */
  private readonly chains = new Map<string, Promise<unknown>>()
  private readonly records = new Map<string, number>()

  constructor(dir: string) {
    this.dir = dir
  }

  private file(documentName: string): string {
    return path.join(this.dir, `${encodeURIComponent(documentName)}.ylog`)
  }

  private ackFile(documentName: string): string {
    return path.join(this.dir, `${encodeURIComponent(documentName)}.ack`)
  }

  private queue<T>(documentName: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(documentName) ?? Promise.resolve()
    const next = previous.then(operation, operation)
    const settled = next.catch(() => undefined)
    this.chains.set(documentName, settled)
    void settled.then(() => {
      if (this.chains.get(documentName) === settled) this.chains.delete(documentName)
    })
    return next
  }

  private async readAll(documentName: string): Promise<Uint8Array[]> {
    try {
      const data = await readFile(this.file(documentName))
      const { updates, whole } = parseRecords(data)
      // Cut a torn last record off, so that later appends do not land behind it.
      if (whole < data.length) await truncate(this.file(documentName), whole)
      return updates
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
  }

  load(documentName: string): Promise<Uint8Array | null> {
    return this.queue(documentName, async () => {
      const updates = await this.readAll(documentName)
      this.records.set(documentName, updates.length)
      return updates.length ? Y.mergeUpdates(updates) : null
    })
  }

  append(documentName: string, update: Uint8Array): Promise<void> {
    return this.queue(documentName, async () => {
      await mkdir(this.dir, { recursive: true })
      await appendFile(this.file(documentName), record(update))
      const count = (this.records.get(documentName) ?? 0) + 1
      this.records.set(documentName, count)
      if (count >= FILE_STORE_COMPACT_AFTER) await this.compact(documentName)
    })
  }

  acknowledge(documentName: string, stateVector: Uint8Array): Promise<void> {
    return this.queue(documentName, async () => {
      await mkdir(this.dir, { recursive: true })
      const file = this.ackFile(documentName)
      const temp = `${file}.${process.pid}.tmp`
      await writeFile(temp, stateVector)
      await rename(temp, file)
    })
  }

  unacknowledged(documentName: string): Promise<number> {
    return this.queue(documentName, async () => {
      const updates = await this.readAll(documentName)
      let acknowledged: Uint8Array | null = null
      try {
        acknowledged = new Uint8Array(await readFile(this.ackFile(documentName)))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
      return countUnacknowledged(updates, acknowledged)
    })
  }

  private async compact(documentName: string): Promise<void> {
    const updates = await this.readAll(documentName)
    if (updates.length === 0) return
    const file = this.file(documentName)
    const temp = `${file}.${process.pid}.tmp`
    await writeFile(temp, record(Y.mergeUpdates(updates)))
    await rename(temp, file)
    this.records.set(documentName, 1)
  }

  clear(documentName: string): Promise<void> {
    return this.queue(documentName, async () => {
      await rm(this.file(documentName), { force: true })
      await rm(this.ackFile(documentName), { force: true })
      this.records.delete(documentName)
    })
  }

  async close(): Promise<void> {
    await Promise.all([...this.chains.values()])
  }
}
