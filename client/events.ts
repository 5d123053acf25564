/** A tiny typed event emitter; `on` returns the function that removes the listener. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>()

  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener as (value: never) => void)
    return () => {
      set.delete(listener as (value: never) => void)
      if (set.size === 0) this.listeners.delete(event)
    }
  }

  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (value: Events[K]) => void)(value)
  }

  /** Listeners registered now, over all events (for leak checks). */
  get listenerCount(): number {
    let count = 0
    for (const set of this.listeners.values()) count += set.size
    return count
  }

  clear(): void {
    this.listeners.clear()
  }
}
