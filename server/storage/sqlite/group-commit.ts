/**
 * Group commit on SQLite: the hot writes that arrive in the same turn of the event loop (every
 * socket frame read in one poll phase, every detection job started in one check phase) are written
 * in one transaction at the end of that turn: document-log appends, feed activity records,
 * notification records, the user directory's token profiles. Each write resolves only once that
 * transaction has committed, so an acknowledgement still means "stored". One commit per turn
 * instead of one per write is what makes heavy writes affordable (measured on the log: 69 µs an
 * append alone, 32 µs in groups of 5); with nothing else arriving, a write waits for one
 * `setImmediate` more. A group of {@link MAX_GROUP_WRITES} commits without waiting for the end of the
 * turn.
 *
 * A write runs inside the group's transaction. One that is a single statement fails alone (SQLite
 * undoes a failed statement); one of several statements must be its own `db.transaction`, which
 * becomes a savepoint inside the group, so that its failure leaves nothing of it behind. Either way
 * a failed write fails only its own caller, unless SQLite gave up the whole transaction (disk full,
 * I/O error): then every write of the group fails and none of it is kept.
 *
 * Derived writes (feed activities and their application, notification records) go to a second
 * group that yields to the first (`yieldTo`): when both have writes in a turn, the first commits,
 * its callers (acknowledgements, a joining client's authentication) carry on, and the derived
 * group commits one turn later. In one shared group they waited for every derived write of the
 * turn: after a burst of comments, the derived backlog made each joining client wait for it.
 */
import type Database from 'better-sqlite3'

/**
 * Runs inside a group's transaction after its writes, before the commit (a test's fault point);
 * gets the tags the writes were run with (the log appends': their document names).
 */
export type BeforeCommit = (tags: readonly string[]) => void

interface Waiting {
  write(): unknown
  tag: string | undefined
  resolve(value: unknown): void
  reject(error: unknown): void
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/** Thrown to the writes of a group after SQLite rolled the group's transaction back on its own. */
export class GroupAborted extends Error {
  constructor(cause: unknown) {
    super('the group transaction was rolled back by SQLite', { cause })
  }
}

export interface GroupCommitOptions {
  /** Runs inside the group's transaction before its commit (a test's fault point). */
  beforeCommit?: BeforeCommit | undefined
  /** A group whose writes commit first when both have some: this one then waits one more turn, at most. */
  yieldTo?: GroupCommit | undefined
}

/**
 * Writes of one group at which it commits at once rather than at the end of the turn. Under heavy
 * load a turn's poll phase reads thousands of frames before the check phase: every append then
 * waited for all of them, the writes' callers (and everything they hold) lived that long, and
 * garbage collection paid for it (issue 22: 2 commits a second at 1,000 comments a second).
 */
export const MAX_GROUP_WRITES = 64

export class GroupCommit {
  private waiting: Waiting[] = []
  private readonly writeGroup: (writes: readonly Waiting[]) => Outcome[]
  private readonly yieldTo: GroupCommit | undefined

  constructor(db: Database.Database, options: GroupCommitOptions = {}) {
    const { beforeCommit, yieldTo } = options
    this.yieldTo = yieldTo
    const group = db.transaction((writes: readonly Waiting[]): Outcome[] => {
      const outcomes: Outcome[] = []
      for (const waiting of writes) {
        try {
          outcomes.push({ ok: true, value: waiting.write() })
        } catch (error) {
          // SQLITE_FULL, SQLITE_IOERR and the like may end the transaction: what ran is gone.
          if (!db.inTransaction) throw new GroupAborted(error)
          outcomes.push({ ok: false, error })
        }
      }
      beforeCommit?.(writes.flatMap((waiting) => (waiting.tag === undefined ? [] : [waiting.tag])))
      return outcomes
    })
    this.writeGroup = (writes) => group.immediate(writes)
  }

  /** Runs `write` in this turn's group transaction; resolves with its result once that transaction committed. */
  run<T>(write: () => T, tag?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(this.scheduled)
      this.waiting.push({ write, tag, resolve: resolve as (value: unknown) => void, reject })
      if (this.waiting.length === MAX_GROUP_WRITES) queueMicrotask(this.full)
    })
  }

  /** Writes wait for this group's transaction. */
  get pending(): boolean {
    return this.waiting.length > 0
  }

  /** The end of the turn: the group yielded to commits first, and this one a turn later (its callers run in between). */
  private readonly scheduled = (): void => {
    if (!this.yieldTo?.pending) return this.flush()
    this.yieldTo.flush()
    setImmediate(() => this.flush())
  }

  /** A full group commits without waiting for the end of the turn (the one it yields to first). */
  private readonly full = (): void => {
    if (this.waiting.length < MAX_GROUP_WRITES) return
    this.yieldTo?.flush()
    this.flush()
  }

  /** Writes what waits now (before reads that must see it, and before the database closes). */
  flush(): void {
    const writes = this.waiting
    if (writes.length === 0) return
    this.waiting = []
    let outcomes: Outcome[]
    try {
      outcomes = this.writeGroup(writes)
    } catch (error) {
      for (const waiting of writes) waiting.reject(error)
      return
    }
    writes.forEach((waiting, index) => {
      const outcome = outcomes[index]
      if (!outcome) waiting.reject(new Error('a write of the group has no outcome'))
      else if (outcome.ok) waiting.resolve(outcome.value)
      else waiting.reject(outcome.error)
    })
  }
}
