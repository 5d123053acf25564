/**
 * Extension priorities in one place (Hocuspocus runs higher first). Guards must run before
 * durability, so that a rejected update is never appended; durability loads documents before
 * anything that reads them.
 */
export const PRIORITY = {
  /** Counts every message first, refused ones included (extensions/metrics). */
  metrics: 10_000,
  /** Authentication decides before anything else sees a connection. */
  auth: 1000,
  /** Caps the documents a socket may open, once authentication passed (server/flow/registry.ts). */
  flow: 900,
  /** Validates writes before they are stored (the write-guard issue). */
  guard: 500,
  /** Coalesces awareness after the guard has filtered it (extensions/presence). */
  presence: 400,
  /** Rebuilds an oversized inbox in storage before durability loads it (extensions/inbox/reset.ts). */
  inboxReset: 200,
  /** Appends before the acknowledgement; loads documents from storage. */
  durability: 100,
  /** Reads applied transactions (mentions, inbox marks); needs documents loaded first. */
  notifications: 50,
  /** Reads applied transactions into feed activities; projects feed documents once loaded (extensions/feeds). */
  feeds: 40,
  /** Sends a fresh joiner the cached document last, once every other beforeSync accepted the sync (extensions/join-cache). */
  joinCache: 10,
} as const
