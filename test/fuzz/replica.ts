/**
 * A replica of the fuzz: one user's device, with its own Y.Doc and its connection's two queues.
 * Its local updates queue for the server while it is online; offline, they wait for the next
 * handshake's sync step 2.
 */
import * as Y from 'yjs'
import type { Role } from '../../protocol/index.ts'
import type { Sender } from './server.ts'

export interface ReplicaSpec {
  userId: string
  role: Role
  clientId: number
}

/** Transaction origin of what a replica receives from the server. */
export const FROM_SERVER = Symbol('fuzz.from-server')

export interface Outgoing {
  update: Uint8Array
  step2: boolean
  /** The operation(s) it carries, for the report. */
  write: string
}

/** Client ids of rebuilt documents: the replica's own plus this, per rebuild (deterministic). */
const REBUILD_CLIENT_STRIDE = 7_919

export class Replica implements Sender {
  readonly name: string
  readonly userId: string
  readonly role: Role
  doc: Y.Doc
  online = true
  /** An update of this connection overtook another (a `reorder`): the server may ask for a resync. */
  reordered = false
  readonly up: Outgoing[] = []
  /** The last message delivered to the server (for `resend`). */
  lastSent: Outgoing | undefined
  readonly down: Uint8Array[] = []
  /** What the replica is doing, for labelling its updates. */
  doing = ''
  private ids = 0
  private rebuilds = 0
  private readonly index: number
  private readonly clientId: number

  constructor(spec: ReplicaSpec, index: number) {
    this.index = index
    this.userId = spec.userId
    this.role = spec.role
    this.clientId = spec.clientId
    this.name = `${spec.userId}#${index}`
    this.doc = this.freshDoc()
  }

  private freshDoc(): Y.Doc {
    const doc = new Y.Doc()
    doc.clientID = (this.clientId + this.rebuilds * REBUILD_CLIENT_STRIDE) >>> 0
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== FROM_SERVER && this.online) this.up.push({ update, step2: false, write: this.doing })
    })
    return doc
  }

  /**
   * After a refusal: the SDK drops its document and rebuilds it from the server's under a new client
   * id (the refused change and those queued after it are lost here; the SDK would apply them again).
   */
  rebuild(server: Y.Doc): void {
    this.doc.destroy()
    this.lastSent = undefined
    this.rebuilds++
    this.doc = this.freshDoc()
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(server), FROM_SERVER)
  }

  newId(): string {
    return `r${this.index}-${++this.ids}`
  }
}
