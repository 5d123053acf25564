/**
 * Versioned PostgreSQL schema, mirroring the SQLite one. Each entry runs once, in order; the
 * table `parley_migrations` records which have run. All pending entries run in one transaction
 * that first takes an advisory lock, so two instances starting together never race: the second
 * waits, then finds nothing left to do. Never edit an entry that has shipped: add a new one.
 *
 * Tables go into the first schema of the connection's `search_path` (`public` by default).
 */
import type { PoolClient } from 'pg'
import { ADVISORY_LOCK_CLASS, MIGRATION_LOCK_KEY, toNumber, type PostgresPool } from './pool.ts'
import { FEATURE_MIGRATIONS } from './feature-migrations.ts'

/** Entries 1–12: documents, access, notifications, push and deliveries. */
const FOUNDATION: readonly string[] = [
  `
  CREATE TABLE document_snapshots (
    name TEXT PRIMARY KEY,
    data BYTEA NOT NULL,
    -- the last log seq merged into this snapshot; appends continue after it
    upto_seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE document_log (
    name TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (name, seq)
  );
  CREATE TABLE document_quarantine (
    name TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (name, seq)
  );
  -- The last seq handed out per document. Appends update this row in the transaction that inserts
  -- the log row, so its row lock orders concurrent appends from any number of connections.
  -- It never goes back: compaction leaves it alone, so seqs continue after merged rows.
  CREATE TABLE document_heads (
    name TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
  );
  `,
  // 2: subjects and membership, the user directory and remembered token claims (access issue).
  `
  CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    default_role TEXT CHECK (default_role IN ('read', 'comment', 'moderate')),
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE subject_members (
    subject_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('read', 'comment', 'moderate')),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, user_id)
  );
  CREATE INDEX subject_members_by_user ON subject_members (user_id);
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT,
    handle TEXT,
    -- lower-cased by the application, for case-insensitive search
    name_lower TEXT,
    handle_lower TEXT,
    profile_from_backend BOOLEAN NOT NULL DEFAULT FALSE,
    -- the latest access claim seen in a token, as JSON text; NULL when it had none
    access TEXT,
    token_seen_at BIGINT,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX users_by_handle ON users (handle_lower text_pattern_ops);
  CREATE INDEX users_by_name ON users (name_lower text_pattern_ops);
  `,
  `
  CREATE TABLE client_owners (
    document TEXT NOT NULL,
    client_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (document, client_id)
  );
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
    created_at BIGINT NOT NULL,
    notified_at BIGINT NOT NULL,
    read_at BIGINT,
    archived_at BIGINT,
    version INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
  );
  CREATE INDEX notifications_by_time ON notifications (user_id, notified_at DESC, id);
  -- idempotency keys: at most one piece of activity per (kind, subject, comment, recipient)
  CREATE TABLE notification_keys (
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, subject_id, comment_id, recipient)
  );
  CREATE TABLE mentions_handled (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    handled_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, comment_id, user_id)
  );
  CREATE TABLE comments_handled (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    handled_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, comment_id)
  );
  CREATE TABLE notification_outbox (
    user_id TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    version INTEGER NOT NULL,
    delivered_version INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, notification_id, channel)
  );
  CREATE INDEX notification_outbox_due ON notification_outbox (channel, status, next_attempt_at);
  CREATE TABLE notification_marks (
    document TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  `,
  // 5: one user per handle, and indexed directory search keys (app-bounds issue). A handle several
  // users held stays with one: a backend profile first, then the latest update, then the smallest id.
  // Keys: the handle, the name, and the name from each word on (core/storage/user-directory.ts).
  `
  UPDATE users u SET handle = NULL, handle_lower = NULL
  WHERE u.handle_lower IS NOT NULL AND EXISTS (
    SELECT 1 FROM users o WHERE o.handle_lower = u.handle_lower AND o.id <> u.id AND (
      (o.profile_from_backend AND NOT u.profile_from_backend)
      OR (o.profile_from_backend = u.profile_from_backend AND o.updated_at > u.updated_at)
      OR (o.profile_from_backend = u.profile_from_backend AND o.updated_at = u.updated_at AND o.id COLLATE "C" < u.id COLLATE "C")));
  DROP INDEX users_by_handle;
  DROP INDEX users_by_name;
  CREATE UNIQUE INDEX users_by_handle ON users (handle_lower) WHERE handle_lower IS NOT NULL;
  CREATE TABLE user_search (
    term TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (term, user_id)
  );
  CREATE INDEX user_search_by_user ON user_search (user_id);
  INSERT INTO user_search (term, user_id)
    SELECT handle_lower, id FROM users WHERE handle_lower IS NOT NULL AND handle_lower <> ''
    ON CONFLICT DO NOTHING;
  WITH RECURSIVE words (user_id, rest) AS (
    SELECT id, name_lower FROM users WHERE name_lower IS NOT NULL
    UNION ALL
    SELECT user_id, substr(rest, strpos(rest, ' ') + 1) FROM words WHERE strpos(rest, ' ') > 0
  )
  INSERT INTO user_search (term, user_id)
    SELECT rest, user_id FROM words WHERE rest <> '' AND left(rest, 1) <> ' '
    ON CONFLICT DO NOTHING;
  `,
  // 6: a comments document written before notifications existed (content, no detection mark) gets
  // the mark -1: its mentions are recorded as seen when it next loads. From now on a document
  // without a mark is one that was never written, or was written and not yet unloaded.
  `
  INSERT INTO notification_marks (document, seq, updated_at)
  SELECT h.name, -1, (extract(epoch FROM now()) * 1000)::bigint FROM document_heads h
  WHERE h.name LIKE 'comments/%' AND h.last_seq > 0
    AND NOT EXISTS (SELECT 1 FROM notification_marks m WHERE m.document = h.name);
  `,
  // Notification preferences, only what each user set (core/notifications/preferences.ts); a row
  // with NULL settings is one being created under its lock.
  `
  CREATE TABLE notification_preferences (
    user_id TEXT PRIMARY KEY,
    settings TEXT,
    updated_at BIGINT NOT NULL
  );
  `,
  // When the owner last saw each notification (the badge counts unseen ones).
  `
  ALTER TABLE notifications ADD COLUMN seen_at BIGINT;
  `,
  // Expiry finds old notifications by their latest activity.
  `
  CREATE INDEX notifications_by_notified_at ON notifications (notified_at);
  `,
  // 10: comment events (reactions, moderation actions) whose activity is handled.
  `
  CREATE TABLE comment_events_handled (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    event TEXT NOT NULL,
    handled_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, comment_id, event)
  );
  `,
  // 11: push devices (APNs, FCM tokens; Web Push subscriptions as JSON), per user.
  `
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_sent_at BIGINT
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
    round BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX deliveries_by_notification ON deliveries (user_id, notification_id);
  CREATE INDEX deliveries_by_status ON deliveries (status, updated_at DESC, id);
  `,
]

/** Every entry in order: the foundation, then 13–20 (search, feeds, moderation, webhooks, email). */
export const MIGRATIONS: readonly string[] = [...FOUNDATION, ...FEATURE_MIGRATIONS]

async function currentVersion(client: PoolClient): Promise<number> {
  await client.query(`CREATE TABLE IF NOT EXISTS parley_migrations (
    version INTEGER PRIMARY KEY,
    applied_at BIGINT NOT NULL
  )`)
  const result = await client.query<{ version: string | number }>('SELECT COALESCE(MAX(version), 0) AS version FROM parley_migrations')
  return toNumber(result.rows[0]?.version ?? 0)
}

/** Brings the schema up to date; resolves with the version it is at. */
export async function migrate(pool: PostgresPool): Promise<number> {
  return pool.transaction(async (client) => {
    // Held until COMMIT: a second instance starting now waits here, then sees the new version.
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK_CLASS, MIGRATION_LOCK_KEY])
    const current = await currentVersion(client)
    if (current > MIGRATIONS.length) {
      throw new Error(`the PostgreSQL database is at schema ${current}, newer than this Parley (${MIGRATIONS.length})`)
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version] ?? '')
      await client.query('INSERT INTO parley_migrations (version, applied_at) VALUES ($1, $2)', [version + 1, Date.now()])
    }
    return MIGRATIONS.length
  })
}
