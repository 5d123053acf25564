/**
 * Which structs of an update integrate into a document and which wait, decided as Yjs decides it
 * (`integrateStructs`), without changing the document. Linear in the update whatever the order of
 * its clients: a struct blocked on another client's struct makes that client's next struct the
 * next one examined (a worklist), instead of passes over all clients until nothing changes.
 */
import * as Y from 'yjs'

/** An update no Yjs encoder writes (a struct that refers to its own client's future). */
export class MalformedUpdate extends Error {}

export interface Integration {
  /** Items that integrate, per client, in clock order. */
  fresh: Map<number, Y.Item[]>
  /** Items that integrate, in the order Yjs integrates them. */
  freshItems: Y.Item[]
  gcs: Y.GC[]
  /** Structs that wait: they depend on structs neither the document nor the update has. */
  deferred: Array<Y.Item | Y.GC>
  /** Per client, the clock the document reaches once the integrating structs are in. */
  frontier: Map<number, number>
}

interface Reader {
  refs: Array<Y.Item | Y.GC>
  /** The next struct to take. */
  next: number
  /** Structs settled so far (integrating, or known already): always a prefix of `refs`. */
  settled: number
}

/**
 * Refuses an item that names its own client's struct at or after its own clock: Yjs does not wait
 * for those (it assumes a client's structs arrive in order) and would fail while applying it.
 */
export function refuseOwnFuture(item: Y.Item): void {
  const { id, origin, rightOrigin, parent } = item
  if (laterOwn(id, origin) || laterOwn(id, rightOrigin) || (parent instanceof Y.ID && laterOwn(id, parent))) {
    throw new MalformedUpdate(`struct ${id.client}:${id.clock} refers to a later struct of its own client`)
  }
}

function laterOwn(self: Y.ID, ref: Y.ID | null): boolean {
  return ref !== null && ref.client === self.client && ref.clock >= self.clock
}

/**
 * Clients from the highest id down, each client's structs in clock order; a struct that waits for
 * another client's struct goes on a stack while that client's next struct is taken. A struct that
 * waits for something the update does not have stops its client, and every client on the stack.
 * Each struct is taken once and examined again only when one it waited for was taken.
 */
export function integrationOf(doc: Y.Doc, structs: ReadonlyArray<Y.Item | Y.GC>): Integration {
  const result: Integration = { fresh: new Map(), freshItems: [], gcs: [], deferred: [], frontier: new Map() }
  const reach = (client: number) => result.frontier.get(client) ?? Y.getState(doc.store, client)
  const waitsOn = (self: number, id: Y.ID | null) => id !== null && id.client !== self && id.clock >= reach(id.client)
  /** The client whose structs `item` still waits for (another client's), or null. */
  const missingClient = (item: Y.Item): number | null => {
    const client = item.id.client
    const { origin, rightOrigin, parent } = item
    if (waitsOn(client, origin)) return origin!.client
    if (waitsOn(client, rightOrigin)) return rightOrigin!.client
    if (parent instanceof Y.ID && waitsOn(client, parent)) return parent.client
    return null
  }
  const readers = new Map<number, Reader>()
  for (const struct of structs) {
    const reader = readers.get(struct.id.client)
    if (reader) reader.refs.push(struct)
    else readers.set(struct.id.client, { refs: [struct], next: 0, settled: 0 })
  }
  for (const reader of readers.values()) reader.refs.sort((a, b) => a.id.clock - b.id.clock)
  const order = [...readers.keys()].sort((a, b) => a - b)
  const stack: Array<Y.Item | Y.GC> = []
  const nextTarget = (): Reader | null => {
    while (order.length > 0) {
      const reader = readers.get(order.at(-1)!)!
      if (reader.next < reader.refs.length) return reader
      order.pop()
    }
    return null
  }
  const stopStack = () => {
    for (const struct of stack) {
      const reader = readers.get(struct.id.client)
      if (reader) reader.next = reader.refs.length
    }
    stack.length = 0
  }
  let target = nextTarget()
  if (!target) return result
  let head = target.refs[target.next++]!
  for (;;) {
    const client = head.id.client
    const known = reach(client)
    if (head.id.clock > known) {
      // A gap in the client's own clocks: nothing after it can integrate.
      stack.push(head)
      stopStack()
    } else if (head.id.clock + head.length <= known) {
      readers.get(client)!.settled++
    } else {
      const missing = head instanceof Y.Item ? missingClient(head) : null
      if (missing === null) {
        readers.get(client)!.settled++
        if (head instanceof Y.Item) {
          const own = result.fresh.get(client) ?? []
          own.push(head)
          result.fresh.set(client, own)
          result.freshItems.push(head)
        } else {
          result.gcs.push(head)
        }
        result.frontier.set(client, head.id.clock + head.length)
      } else {
        stack.push(head)
        const reader = readers.get(missing)
        if (reader && reader.next < reader.refs.length) {
          head = reader.refs[reader.next++]!
          continue
        }
        stopStack()
      }
    }
    const popped = stack.pop()
    if (popped) head = popped
    else if (target.next < target.refs.length) head = target.refs[target.next++]!
    else {
      const next = nextTarget()
      if (!next) break
      target = next
      head = target.refs[target.next++]!
    }
  }
  for (const reader of readers.values()) {
    for (let i = reader.settled; i < reader.refs.length; i++) result.deferred.push(reader.refs[i]!)
  }
  return result
}
