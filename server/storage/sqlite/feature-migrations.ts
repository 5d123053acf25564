/**
 * SQLite schema entries 13–21 (search, feeds, moderation, webhooks, email, the log's layout), run after the
 * foundation in migrations.ts. Never edit an entry that has shipped: add a new one at the end.
 */
export const FEATURE_MIGRATIONS: readonly string[] = [
  // 13: search (issue 20): comment bodies for snippets, a contentless FTS5 index of their normalized
  // words and their subject id in hex (rowid = search_comments.id), and per-document index marks.
  `
  CREATE TABLE search_comments (
    id INTEGER PRIMARY KEY,
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (subject_id, comment_id)
  );
  CREATE VIRTUAL TABLE search_fts USING fts5(terms, subject, content='', contentless_delete=1, prefix='2 3');
  CREATE TABLE search_marks (
    document TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 14: feeds (issue 18): activities recorded once (id = idempotency key) with their fan-out cursor,
  // feed items (newest first per feed; fold candidates by type and subject; by comment for
  // retraction), and trending counters ordered by a time-invariant rank.
  `
  CREATE TABLE feed_activities (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    done INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX feed_activities_pending ON feed_activities (created_at, id) WHERE done = 0;
  CREATE TABLE feed_items (
    feed_id TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    actor_ids TEXT NOT NULL,
    subject_id TEXT,
    thread_id TEXT,
    comment_id TEXT,
    summary TEXT NOT NULL,
    count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    foldable INTEGER NOT NULL,
    PRIMARY KEY (feed_id, id)
  );
  CREATE INDEX feed_items_newest ON feed_items (feed_id, updated_at DESC, id DESC);
  CREATE INDEX feed_items_fold ON feed_items (feed_id, type, subject_id, created_at DESC) WHERE foldable = 1;
  CREATE INDEX feed_items_by_comment ON feed_items (subject_id, comment_id);
  CREATE TABLE feed_trending (
    subject_id TEXT PRIMARY KEY,
    score REAL NOT NULL,
    scored_at INTEGER NOT NULL,
    rank REAL NOT NULL,
    comments INTEGER NOT NULL,
    participants INTEGER NOT NULL,
    buckets TEXT NOT NULL
  );
  CREATE INDEX feed_trending_by_rank ON feed_trending (rank DESC);
  CREATE TABLE feed_trending_participants (
    subject_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (subject_id, user_id)
  ) WITHOUT ROWID;
  `,
  // 15: moderation (issue 19): hidden comments' words, reports (one per reporter) with their count,
  // bans per subject, and the moderation log.
  `
  CREATE TABLE hidden_bodies (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    runs TEXT NOT NULL,
    hidden_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id)
  ) WITHOUT ROWID;
  CREATE TABLE comment_reports (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    reporter_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id, reporter_id)
  ) WITHOUT ROWID;
  CREATE TABLE comment_report_counts (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    reporters INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id)
  ) WITHOUT ROWID;
  CREATE TABLE subject_bans (
    subject_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    until INTEGER,
    banned_by TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT,
    target_user_id TEXT,
    comment_id TEXT,
    reason TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX moderation_log_by_subject ON moderation_log (subject_id, id);
  `,
  // 16: webhooks (issue 17)
  `
  CREATE TABLE webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX webhooks_pending_by_subject ON webhooks (subject, seq) WHERE status = 'pending';
  CREATE INDEX webhooks_pending_due ON webhooks (next_at) WHERE status = 'pending';
  `,
  // 17: user email and locale (issue 17)
  `
  CREATE TABLE user_contacts (
    user_id TEXT PRIMARY KEY,
    email TEXT,
    locale TEXT,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 18: when the last email went to a user (the email digest window, issue 17)
  `
  ALTER TABLE user_contacts ADD COLUMN emailed_at INTEGER;
  `,
  // 19: webhook claims, so that instances sharing the outbox never send one event at once (issue 17)
  `
  ALTER TABLE webhooks ADD COLUMN lease_owner TEXT;
  ALTER TABLE webhooks ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
  `,
  // 20: feed audiences (issue 18): a fan-out's feed list stored once, named by the activities sharing it
  `
  CREATE TABLE feed_audiences (
    id TEXT PRIMARY KEY,
    feeds TEXT NOT NULL
  );
  ALTER TABLE feed_activities ADD COLUMN audience TEXT;
  `,
  // 21: the document log in append order (issue 22). Keyed by (name, seq) without a rowid, every
  // append landed in another document's leaf page: a commit of 64 appends rewrote ~64 pages in the
  // WAL (72 µs an append with its commit, 1,000 documents interleaved). By rowid, appends fill the
  // last page, and the (name, seq) index entries are small: 40 µs. Reads by document use the index.
  `
  CREATE TABLE document_log_appended (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  INSERT INTO document_log_appended (name, seq, data, created_at) SELECT name, seq, data, created_at FROM document_log ORDER BY name, seq;
  DROP TABLE document_log;
  ALTER TABLE document_log_appended RENAME TO document_log;
  CREATE UNIQUE INDEX document_log_by_name ON document_log (name, seq);
  `,
]
