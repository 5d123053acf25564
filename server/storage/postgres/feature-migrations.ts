/**
 * PostgreSQL schema entries 13–20 (search, feeds, moderation, webhooks, email), run after the
 * foundation in migrations.ts. Never edit an entry that has shipped: add a new one at the end.
 */
export const FEATURE_MIGRATIONS: readonly string[] = [
  // 13: search (issue 20): each findable comment with its normalized words as a tsvector (GIN), and
  // per-document index marks.
  `
  CREATE TABLE search_comments (
    id BIGSERIAL PRIMARY KEY,
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    terms TSVECTOR NOT NULL,
    UNIQUE (subject_id, comment_id)
  );
  CREATE INDEX search_comments_terms ON search_comments USING GIN (terms);
  CREATE TABLE search_marks (
    document TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
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
    done BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX feed_activities_pending ON feed_activities (created_at, id) WHERE NOT done;
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
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    foldable BOOLEAN NOT NULL,
    PRIMARY KEY (feed_id, id)
  );
  CREATE INDEX feed_items_newest ON feed_items (feed_id, updated_at DESC, id DESC);
  CREATE INDEX feed_items_fold ON feed_items (feed_id, type, subject_id, created_at DESC) WHERE foldable;
  CREATE INDEX feed_items_by_comment ON feed_items (subject_id, comment_id);
  CREATE TABLE feed_trending (
    subject_id TEXT PRIMARY KEY,
    score DOUBLE PRECISION NOT NULL,
    scored_at BIGINT NOT NULL,
    rank DOUBLE PRECISION NOT NULL,
    comments INTEGER NOT NULL,
    participants INTEGER NOT NULL,
    buckets TEXT NOT NULL
  );
  CREATE INDEX feed_trending_by_rank ON feed_trending (rank DESC);
  CREATE TABLE feed_trending_participants (
    subject_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (subject_id, user_id)
  );
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
    at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, comment_id)
  );
  CREATE TABLE comment_reports (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    reporter_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, comment_id, reporter_id)
  );
  CREATE TABLE comment_report_counts (
    subject_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    reporters INTEGER NOT NULL,
    PRIMARY KEY (subject_id, comment_id)
  );
  CREATE TABLE subject_bans (
    subject_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    until BIGINT,
    banned_by TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, user_id)
  );
  CREATE TABLE moderation_log (
    id BIGSERIAL PRIMARY KEY,
    subject_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT,
    target_user_id TEXT,
    comment_id TEXT,
    reason TEXT,
    at BIGINT NOT NULL
  );
  CREATE INDEX moderation_log_by_subject ON moderation_log (subject_id, id);
  `,
  // 16: webhooks (issue 17)
  `
  CREATE TABLE webhooks (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
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
    updated_at BIGINT NOT NULL
  );
  `,
  // 18: when the last email went to a user (the email digest window, issue 17)
  `
  ALTER TABLE user_contacts ADD COLUMN emailed_at BIGINT;
  `,
  // 19: webhook claims, so that instances sharing the outbox never send one event at once (issue 17)
  `
  ALTER TABLE webhooks ADD COLUMN lease_owner TEXT;
  ALTER TABLE webhooks ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
  `,
  // 20: feed audiences (issue 18): a fan-out's feed list stored once, named by the activities sharing it
  `
  CREATE TABLE feed_audiences (
    id TEXT PRIMARY KEY,
    feeds TEXT NOT NULL
  );
  ALTER TABLE feed_activities ADD COLUMN audience TEXT;
  `,
]
