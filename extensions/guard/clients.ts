/**
 * Which user owns each Yjs client id in a document, and which client ids were refused.
 * A struct under another user's client id would make that user's later edits look like
 * duplicates, so a client id belongs to the first user who writes with it.
 * A rejected struct breaks its client's clock chain, so that client id is refused from then on;
 * the client rebuilds its document under a new one.
 */
export class ClientRegistry {
  private readonly owners = new Map<number, string>()
  private readonly blocked = new Set<number>()

  ownerOf(client: number): string | undefined {
    return this.owners.get(client)
  }

  isBlocked(client: number): boolean {
    return this.blocked.has(client)
  }

  bind(clients: Iterable<number>, userId: string): void {
    for (const client of clients) if (!this.owners.has(client)) this.owners.set(client, userId)
  }

  block(clients: Iterable<number>): void {
    for (const client of clients) this.blocked.add(client)
  }
}
