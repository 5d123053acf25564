/** Limits the guard enforces. Each is a named constant so that operators and tests can find it. */

/** Largest update one message may carry. */
export const MAX_UPDATE_BYTES = 1024 * 1024
/** Largest a document may grow (its stored updates, approximately). */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
/** A socket whose unsent data stays above this many bytes is a slow reader. */
export const SLOW_READER_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/** How long a socket may stay above {@link SLOW_READER_MAX_BUFFERED_BYTES} before it is closed. */
export const SLOW_READER_GRACE_MS = 5_000
/** How long a slow reader's close frame may wait behind its buffer before the socket is cut. */
export const SLOW_READER_CLOSE_TIMEOUT_MS = 10_000
/** How often sockets' send buffers are inspected. */
export const SLOW_READER_SWEEP_MS = 1_000

// The work budget of one update (core/guard/budget.ts): Yjs and the guard spend time per
// struct, entry, client id and delete range, so these bound the time one update can take.
/**
 * Structs (items, garbage-collected ranges, skips) one update may carry, each map entry or array
 * element counting twice: the guard's time is about linear in this count (about 40 ms at the
 * limit for the costliest shape, an offline session of new threads). An SDK offline session costs
 * about 16 per comment when most are replies (30 when each is a new thread), so a sync step 2 of
 * 500 comments written offline fits.
 */
export const MAX_UPDATE_STRUCTS = 10_000
/** Map entries and array elements (everything but text characters) one update may write. */
export const MAX_UPDATE_ENTRIES = 5_000
/** Distinct client ids one update may carry structs for. */
export const MAX_UPDATE_CLIENTS = 64
/** Delete ranges one update may carry beyond one per struct the document holds (its own delete set comes back in every sync step 2). */
export const MAX_UPDATE_DELETE_RANGES = 5_000
/** Entries of one map key in one update that share an origin (concurrent writes: Yjs orders each against all the others, and walks the key's history). */
export const MAX_CONCURRENT_KEY_WRITES = 16
/** New items of one update inserted at one place of a sequence (the same origin and right origin: Yjs orders each against all the others). */
export const MAX_CONCURRENT_INSERTS = 16
/** Client ids one update may introduce (bind to its sender); a device syncing edits made offline over several sessions brings one per session. */
export const MAX_NEW_CLIENTS_PER_UPDATE = 16
/** Client ids one user may introduce in one document per hour (a page load or an SDK rebuild uses one; every id stays in the document's state vector for ever). */
export const MAX_NEW_CLIENTS_PER_HOUR = 100
/** Bytes of structs and deletions a document may hold pending (waiting for structs it lacks); Yjs re-reads them on every update. */
export const MAX_PENDING_BYTES = 64 * 1024
/** Structs a document may hold (Yjs keeps one object per struct in memory, deleted ones included). */
export const MAX_DOCUMENT_ITEMS = 250_000
