/** Size limits shared by server and client. The write guard enforces them; the SDK checks first. */

/** Longest comment body, in UTF-16 code units (what `Y.Text.length` counts). */
export const MAX_COMMENT_LENGTH = 10_000

/** Longest reaction emoji (a key is `"<emoji>|<userId>"`); room for ZWJ sequences and skin tones. */
export const MAX_EMOJI_LENGTH = 32

/** Longest notification preview, in characters. */
export const PREVIEW_LENGTH = 140

/** Largest JSON encoding of one thread's `metadata` value, in bytes. */
export const MAX_METADATA_VALUE_BYTES = 4_096
