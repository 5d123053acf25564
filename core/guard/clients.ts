/**
 * Which user owns each Yjs client id in a document, and which client ids were refused.
 * A struct under another user's client id would make that user's later edits look like
 * duplicates, so a client id belongs to the first user who writes with it.
 * A rejected struct breaks its client's clock chain, so that client id is refused from then on;
 * the client rebuilds its document under a new one.
 */
export class ClientRegistry {
  private readonly owners: Map<number, string>
  private readonly blocked = new Set<number>()

  /** Starts from the bindings storage holds for the document. */
  constructor(owners: Map<number, string> = new Map()) {
    this.owners = owners
  }

  ownerOf(client: number): string | undefined {
    return this.owners.get(client)
  }

  isBlocked(client: number): boolean {
    return this.blocked.has(client)
  }

  /** Binds the client ids that have no owner yet; returns those (to be stored). */
  bind(clients: Iterable<number>, userId: string): number[] {
    const bound: number[] = []
    for (const client of clients) {
      if (this.owners.has(client)) continue
      this.owners.set(client, userId)
      bound.push(client)
    }
    return bound
  }

  block(clients: Iterable<number>): void {
    for (const client of clients) this.blocked.add(client)
  }
}
