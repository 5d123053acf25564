/** Size limits shared by server and client. The write guard enforces them; the SDK checks first. */

/** Longest comment body, in UTF-16 code units (what `Y.Text.length` counts). */
export const MAX_COMMENT_LENGTH = 10_000

/** Longest reaction emoji (a key is `"<emoji>|<userId>"`); room for ZWJ sequences and skin tones. */
export const MAX_EMOJI_LENGTH = 32

/** Longest notification preview, in characters. */
export const PREVIEW_LENGTH = 140

/** Largest JSON encoding of one thread's `metadata` value, in bytes. */
export const MAX_METADATA_VALUE_BYTES = 4_096

/** Most entries a thread's `metadata` may hold (REST and the write guard). */
export const MAX_METADATA_ENTRIES = 32

/** Longest `metadata` key, in UTF-16 code units (REST and the write guard). */
export const MAX_METADATA_KEY_LENGTH = 64

/** Earliest time a document field may hold: 2020-01-01T00:00:00Z, in milliseconds since the epoch. */
export const EARLIEST_TIME_MS = Date.UTC(2020, 0, 1)

/**
 * How far past the server's clock a written time may be (a client clock running fast). Offline
 * writes carry times in the past, so only the future needs a bound.
 */
export const MAX_CLOCK_SKEW_MS = 10 * 60_000
