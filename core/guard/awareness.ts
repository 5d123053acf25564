/**
 * Awareness rules: a state's `user.id` must be the connection's user, and a client id belongs to
 * the connection that first used it in the document. States that break either are dropped.
 */
export class AwarenessOwners {
  /** client id → socket id, per document. */
  private readonly owners = new Map<number, string>()

  /** Removes from `states` every state this socket may not send; returns how many were dropped. */
  filter(states: Map<number, Record<string, unknown>>, socketId: string, userId: string): number {
    let dropped = 0
    for (const [clientId, state] of states) {
      // An empty state claims nobody: it passes, uncounted and unbound. Hocuspocus decodes each
      // message into a scratch Awareness whose own `{}` is among `states`; a provider sends `{}`
      // before it sets a field; the presence extension reads `{}` as "this client left presence".
      if (Object.keys(state).length === 0) continue
      const owner = this.owners.get(clientId)
      const user = state.user as { id?: unknown } | undefined
      if ((owner !== undefined && owner !== socketId) || user?.id !== userId) {
        states.delete(clientId)
        dropped++
        continue
      }
      this.owners.set(clientId, socketId)
    }
    return dropped
  }

  /** Forgets the client ids of a socket that left the document. */
  release(socketId: string): void {
    for (const [clientId, owner] of this.owners) if (owner === socketId) this.owners.delete(clientId)
  }
}
