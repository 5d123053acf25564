/** Limits the guard enforces. Each is a named constant so that operators and tests can find it. */

/** Largest update one message may carry. */
export const MAX_UPDATE_BYTES = 1024 * 1024
/** Largest a document may grow (its stored updates, approximately). */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
/** Document updates a connection (socket) or a user may send per second, sustained. */
export const UPDATES_PER_SECOND = 10
/** Updates a connection or user may send in a burst before the rate applies. */
export const UPDATE_BURST = 50
/** Awareness messages a connection or user may send per second, sustained. */
export const AWARENESS_PER_SECOND = 10
/** Awareness messages in a burst. */
export const AWARENESS_BURST = 50
/** Rate-limited messages within {@link ABUSE_WINDOW_MS} after which the whole socket is closed. */
export const ABUSE_LIMIT = 50
/** Window for {@link ABUSE_LIMIT}. */
export const ABUSE_WINDOW_MS = 10_000
/** After persistent abuse, how long the user's writes are refused outright. */
export const ABUSE_COOLDOWN_MS = 30_000
/** A socket whose unsent data stays above this many bytes is a slow reader. */
export const SLOW_READER_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/** How long a socket may stay above {@link SLOW_READER_MAX_BUFFERED_BYTES} before it is closed. */
export const SLOW_READER_GRACE_MS = 5_000
/** How long a slow reader's close frame may wait behind its buffer before the socket is cut. */
export const SLOW_READER_CLOSE_TIMEOUT_MS = 10_000
/** How often sockets' send buffers are inspected. */
export const SLOW_READER_SWEEP_MS = 1_000
/** WebSocket upgrades one address may make per second, sustained. */
export const CONNECTIONS_PER_ADDRESS_PER_SECOND = 20
/** Upgrades one address may make in a burst. */
export const CONNECTION_BURST_PER_ADDRESS = 200
