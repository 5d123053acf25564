/**
 * Flow-control limits of the inbound gate (server/flow/gate.ts). Rates are token buckets: a
 * sender may go `burst` past the sustained rate before it is slowed. Being slowed means the
 * server reads its socket more slowly; nothing valid is refused. Only the ceilings and the queue
 * bounds cut a socket, and they sit far above anything an honest client sends.
 */

/** Document updates (Update, and SyncStep2 that carry something) a socket or a user may send per second, sustained (contract floor: 10). */
export const UPDATES_PER_SECOND = 10
/** Updates a socket or a user may send in a burst before slowing starts (contract floor: 50). */
export const UPDATE_BURST = 50
/** Bytes of Update and SyncStep2 frames a socket or a user may send per second, sustained. */
export const UPDATE_BYTES_PER_SECOND = 256 * 1024
/** Bytes of Update and SyncStep2 frames in a burst (room for the largest update, 1 MiB, twice). */
export const UPDATE_BYTES_BURST = 2 * 1024 * 1024

/** Awareness messages a socket or a user may send per second, sustained; above it they are coalesced. */
export const AWARENESS_PER_SECOND = 10
/** Awareness messages in a burst. */
export const AWARENESS_BURST = 50
/** Bytes of awareness a socket or a user may send per second, sustained. */
export const AWARENESS_BYTES_PER_SECOND = 64 * 1024
/** Bytes of awareness in a burst. */
export const AWARENESS_BYTES_BURST = 256 * 1024
/** Largest JSON text of one awareness state; a message with a larger one is dropped. */
export const MAX_AWARENESS_STATE_BYTES = 8 * 1024
/** States (other than removals) one awareness message may carry: a connection sends only its own client's. */
export const MAX_AWARENESS_STATES_PER_MESSAGE = 1
/** Entries (states and removals) one awareness message may carry before it is dropped unread. */
export const MAX_AWARENESS_ENTRIES_PER_MESSAGE = 64

/** SyncStep1 messages a socket may send per second, sustained (each makes the server encode a diff). */
export const SYNC_STEP1_PER_SECOND = 20
/** SyncStep1 messages in a burst: a reconnect sends one per open document. */
export const SYNC_STEP1_BURST = 200
/** Largest state vector a SyncStep1 may carry (about 6 000 client ids); larger ones close the socket (`too_large`). */
export const MAX_STATE_VECTOR_BYTES = 64 * 1024

/** Other messages (Auth, Close, Stateless, QueryAwareness, …) a socket may send per second, sustained. */
export const CONTROL_PER_SECOND = 20
/** Other messages in a burst: a reconnect sends an Auth per open document. */
export const CONTROL_BURST = 300

/** Distinct documents one socket may have open at once; opening one more is refused (`too_many_documents`). */
export const MAX_DOCUMENTS_PER_SOCKET = 100

/**
 * Frames a slowed socket may have waiting. The socket is paused as soon as one frame waits, so
 * only what was already read (one network read, at most 64 KiB) can join: this is never reached
 * by a client that is only fast, and a full queue closes the socket (`rate_limited`).
 */
export const MAX_QUEUED_FRAMES = 10_000
/** Bytes a slowed socket may have waiting (a single frame is always accepted into an empty queue). */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024

/**
 * Bytes read from one socket per second, sustained, whatever the frames are (awareness the gate
 * drops unread included): past it and its burst the server stops reading the socket until the
 * bucket refills. Above every metered rate together, so it only slows what the rates do not.
 */
export const READ_BYTES_PER_SECOND = 1024 * 1024
/** Burst of {@link READ_BYTES_PER_SECOND}: four of the largest frames. */
export const READ_BYTES_BURST = 8 * 1024 * 1024

/** Ceiling on bytes read from one socket per second, sustained; past it (and its burst) the socket is cut (`rate_limited`). */
export const INBOUND_CEILING_BYTES_PER_SECOND = 4 * 1024 * 1024
/** Burst of {@link INBOUND_CEILING_BYTES_PER_SECOND}: room for sixteen of the largest frames (2 MiB). */
export const INBOUND_CEILING_BYTES_BURST = 32 * 1024 * 1024
/** Ceiling on frames read from one socket per second, sustained; past it (and its burst) the socket is cut. */
export const INBOUND_CEILING_FRAMES_PER_SECOND = 2_000
/** Burst of {@link INBOUND_CEILING_FRAMES_PER_SECOND}: more than one network read of the smallest frames. */
export const INBOUND_CEILING_FRAMES_BURST = 20_000

/**
 * A socket closed for a refusal (a refused update, an oversized state vector, a cut) whose client
 * comes back with the same thing is closed again after a growing hold: this is the first hold.
 */
export const REFUSAL_BACKOFF_BASE_MS = 1_000
/** Longest hold before closing a socket again for the same refusal (below Hocuspocus's 60 s idle timeout). */
export const REFUSAL_BACKOFF_MAX_MS = 30_000
/** A refusal not repeated for this long is forgotten: the next one closes at once again. */
export const REFUSAL_FORGET_MS = 5 * 60_000

/** Per-user buckets idle this long and full again are dropped. */
export const IDLE_BUCKET_FORGET_MS = 60_000
