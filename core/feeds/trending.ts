/**
 * Trending subjects: comment velocity with exponential decay, maintained incrementally. Each
 * comment adds 1 to the subject's score after decaying it to the comment's time. Subjects are
 * ordered by a time-invariant rank, `log2(score) + scoredAt / halfLife` (the same order as the
 * decayed scores at any common instant), which storage indexes, so a request reads the top rows
 * instead of scanning every subject. Recent activity is also kept in coarse buckets, so that a
 * request with another half-life rescores the top candidates.
 */

/** Default half-life of a comment's weight. */
export const DEFAULT_HALF_LIFE_MINUTES = 60

/** Width of an activity bucket. */
export const TREND_BUCKET_MS = 5 * 60_000

/** Buckets kept per subject (24 hours of 5-minute buckets); older activity only counts in the score. */
export const MAX_TREND_BUCKETS = 288

/** A subject's trending state as stored. */
export interface TrendState {
  subjectId: string
  /** Score at `scoredAt` for the stored half-life. */
  score: number
  scoredAt: number
  /** Ordering key (see the module comment). */
  rank: number
  /** Comments ever counted. */
  comments: number
  /** Distinct commenters ever counted. */
  participants: number
  /** [bucket start, comments] of recent activity, oldest first. */
  buckets: Array<[number, number]>
}

export function decay(score: number, from: number, to: number, halfLifeMs: number): number {
  return score * 2 ** (-Math.max(0, to - from) / halfLifeMs)
}

export function rankOf(score: number, at: number, halfLifeMs: number): number {
  return Math.log2(score) + at / halfLifeMs
}

/** The state after one more comment at `at`; `newParticipant`: its author had not commented on the subject before. */
export function bump(state: TrendState | null, subjectId: string, at: number, halfLifeMs: number, newParticipant: boolean): TrendState {
  const scoredAt = Math.max(at, state?.scoredAt ?? at)
  const score = (state ? decay(state.score, state.scoredAt, scoredAt, halfLifeMs) : 0) + decay(1, at, scoredAt, halfLifeMs)
  const start = at - (at % TREND_BUCKET_MS)
  const buckets = (state?.buckets ?? []).map(([t, c]): [number, number] => [t, c])
  const last = buckets.at(-1)
  if (last && last[0] === start) last[1]++
  else {
    buckets.push([start, 1])
    buckets.sort((a, b) => a[0] - b[0])
  }
  return {
    subjectId,
    score,
    scoredAt,
    rank: rankOf(score, scoredAt, halfLifeMs),
    comments: (state?.comments ?? 0) + 1,
    participants: (state?.participants ?? 0) + (newParticipant ? 1 : 0),
    buckets: buckets.filter(([t]) => t > scoredAt - MAX_TREND_BUCKETS * TREND_BUCKET_MS),
  }
}

/** The subject's score at `now`: the stored score decayed, or for another half-life, rescored from the buckets. */
export function scoreAt(state: TrendState, now: number, halfLifeMs: number, storedHalfLifeMs: number): number {
  if (halfLifeMs === storedHalfLifeMs) return decay(state.score, state.scoredAt, now, halfLifeMs)
  let score = 0
  for (const [start, count] of state.buckets) score += count * decay(1, start + TREND_BUCKET_MS / 2, now, halfLifeMs)
  return score
}
