/**
 * Versioned SQLite schema. Each entry runs once, in order; `PRAGMA user_version` records how far
 * a database has come. Never edit an entry that has shipped: add a new one.
 */
import type Database from 'better-sqlite3'
import { FEATURE_MIGRATIONS } from './feature-migrations.ts'

/** Entries 1–12: documents, access, notifications, push and deliveries. */
const FOUNDATION: readonly string[] = [
  `
  CREATE TABLE document_snapshots (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    -- the last log seq merged into this snapshot; appends continue after it
    upto_seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE document_log (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
  ) WITHOUT ROWID;
  CREATE TABLE document_quarantine (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
  );
  `,
  // 2: subjects and membership, the user directory and remembered token claims (access issue).
  `
  CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    default_role TEXT CHECK (default_role IN ('read', 'comment', 'moderate')),
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE subject_members (
    subject_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('read', 'comment', 'moderate')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX subject_members_by_user ON subject_members (user_id);
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT,
    handle TEXT,
    -- lower-cased by the application, for case-insensitive search
    name_lower TEXT,
    handle_lower TEXT,
    profile_from_backend INTEGER NOT NULL DEFAULT 0,
    -- the latest access claim seen in a token, as JSON; NULL when it had none
    access TEXT,
    token_seen_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX users_by_handle ON users (handle_lower);
  CREATE INDEX users_by_name ON users (name_lower);
  `,
  `
  CREATE TABLE client_owners (
    document TEXT NOT NULL,
    client_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (document, client_id)
  ) WITHOUT ROWID;
  `,
  // 4: notifications, handled mentions and comments, the outbox, detection marks (notifications issue).
  `
  CREATE TABLE notifications (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    thread_id TEXT,
    comment_id TEXT,
    -- JSON array of user ids, latest first
    actors TEXT NOT NULL,
    activity_count INTEGER NOT NULL,
    preview TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    notified_at INTEGER NOT NULL,
    read_at INTEGER,
    archived_at INTEGER,
    version INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
  ) WITHOUT ROWID;
  CREATE INDEX notifications_by_time ON notifications (user_id, notified_at DESC, id);
  -- idempotency keys: at most one piece of activity per (kind, subject, comment, recipient)
  CREATE TABLE notification_keys (
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, subject_id, comment_id, recipient)
  ) WITHOUT ROWID;
  CREATE TABLE mentions_handled (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE comments_handled (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id)
  ) WITHOUT ROWID;
  CREATE TABLE notification_outbox (
    user_id TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    version INTEGER NOT NULL,
    delivered_version INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, notification_id, channel)
  ) WITHOUT ROWID;
  CREATE INDEX notification_outbox_due ON notification_outbox (channel, status, next_attempt_at);
  CREATE TABLE notification_marks (
    document TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 5: one user per handle, and indexed directory search keys (app-bounds issue). A handle several
  // users held stays with one: a backend profile first, then the latest update, then the smallest id.
  // Keys: the handle, the name, and the name from each word on (core/storage/user-directory.ts).
  `
  UPDATE users SET handle = NULL, handle_lower = NULL
  WHERE handle_lower IS NOT NULL AND EXISTS (
    SELECT 1 FROM users o WHERE o.handle_lower = users.handle_lower AND o.id <> users.id AND (
      o.profile_from_backend > users.profile_from_backend
      OR (o.profile_from_backend = users.profile_from_backend AND o.updated_at > users.updated_at)
      OR (o.profile_from_backend = users.profile_from_backend AND o.updated_at = users.updated_at AND o.id < users.id)));
  DROP INDEX users_by_handle;
  DROP INDEX users_by_name;
  CREATE UNIQUE INDEX users_by_handle ON users (handle_lower) WHERE handle_lower IS NOT NULL;
  CREATE TABLE user_search (
    term TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (term, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX user_search_by_user ON user_search (user_id);
  INSERT OR IGNORE INTO user_search (term, user_id)
    SELECT handle_lower, id FROM users WHERE handle_lower IS NOT NULL AND handle_lower <> '';
  WITH RECURSIVE words (user_id, rest) AS (
    SELECT id, name_lower FROM users WHERE name_lower IS NOT NULL
    UNION ALL
    SELECT user_id, substr(rest, instr(rest, ' ') + 1) FROM words WHERE instr(rest, ' ') > 0
  )
  INSERT OR IGNORE INTO user_search (term, user_id)
    SELECT rest, user_id FROM words WHERE rest <> '' AND substr(rest, 1, 1) <> ' ';
  `,
  // 6: a comments document written before notifications existed (content, no detection mark) gets
  // the mark -1: its mentions are recorded as seen when it next loads. From now on a document
  // without a mark is one that was never written, or was written and not yet unloaded.
  `
  INSERT INTO notification_marks (document, seq, updated_at)
  SELECT name, -1, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM (
    SELECT name FROM document_log WHERE name >= 'comments/' AND name < 'comments0'
    UNION
    SELECT name FROM document_snapshots WHERE name >= 'comments/' AND name < 'comments0'
  ) WHERE name NOT IN (SELECT document FROM notification_marks);
  `,
  // 7: notification preferences, only what each user set (core/notifications/preferences.ts).
  `
  CREATE TABLE notification_preferences (
    user_id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 8: when the owner last saw each notification (the badge counts unseen ones).
  `
  ALTER TABLE notifications ADD COLUMN seen_at INTEGER;
  `,
  // 9: expiry finds old notifications by their latest activity.
  `
  CREATE INDEX notifications_by_notified_at ON notifications (notified_at);
  `,
  // 10: comment events (reactions, moderation actions) whose activity is handled.
  `
  CREATE TABLE comment_events_handled (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    event TEXT NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id, event)
  ) WITHOUT ROWID;
  `,
  // 11: push devices (APNs, FCM tokens; Web Push subscriptions as JSON), per user.
  `
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_sent_at INTEGER
  );
  CREATE INDEX devices_by_user ON devices (user_id, created_at);
  `,
  // 12: delivery statuses per (notification, channel, device).
  `
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    device_id TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL,
    round INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_by_notification ON deliveries (user_id, notification_id);
  CREATE INDEX deliveries_by_status ON deliveries (status, updated_at DESC, id);
  `,
]

/** Every entry in order: the foundation, then 13–21 (search, feeds, moderation, webhooks, email, the log's layout). */
export const MIGRATIONS: readonly string[] = [...FOUNDATION, ...FEATURE_MIGRATIONS]

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length) {
    throw new Error(`the SQLite database is at schema ${current}, newer than this Parley (${MIGRATIONS.length})`)
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '')
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}
