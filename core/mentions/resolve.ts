/**
 * The users a comment mentions, read as the notification detector reads them: mention runs (user
 * ids) first, then plain `@handle` text resolved through the directory; the first
 * `MAX_MENTIONS_PER_COMMENT` distinct mentions (what the detector considers), each user once.
 * A handle nobody holds mentions nobody. Used by the REST thread listing.
 */
import type { BodyRun, Thread } from '../../protocol/index.ts'
import { MAX_MENTIONS_PER_COMMENT } from '../notifications/mention-limits.ts'
import { extractMentions } from './extract.ts'

/** The id of the user holding a handle (case-insensitive), or null. */
export type HandleLookup = (handle: string) => Promise<string | null>

/** Remembers each handle's answer, so that a listing asks the directory once per handle. */
export function cachedLookup(lookup: HandleLookup): HandleLookup {
  const answers = new Map<string, Promise<string | null>>()
  return (handle) => {
    let answer = answers.get(handle)
    if (!answer) answers.set(handle, (answer = lookup(handle)))
    return answer
  }
}

/** The mentioned user ids of one body, in order, once each. */
export async function resolveMentions(runs: readonly BodyRun[], lookup: HandleLookup, max = MAX_MENTIONS_PER_COMMENT): Promise<string[]> {
  const { userIds, handles } = extractMentions(runs)
  const tokens: Array<{ userId: string } | { handle: string }> = [...userIds.map((userId) => ({ userId })), ...handles.map((handle) => ({ handle }))]
  const resolved = await Promise.all(tokens.slice(0, max).map((t) => ('userId' in t ? Promise.resolve(t.userId) : lookup(t.handle))))
  return [...new Set(resolved.filter((id): id is string => id !== null))]
}

/** The threads with each comment's `mentions` holding its resolved mentions (plain handles included). */
export async function withResolvedMentions(threads: readonly Thread[], lookup: HandleLookup): Promise<Thread[]> {
  const cached = cachedLookup(lookup)
  return Promise.all(
    threads.map(async (thread) => ({
      ...thread,
      comments: await Promise.all(thread.comments.map(async (comment) => ({ ...comment, mentions: await resolveMentions(comment.body, cached) }))),
    })),
  )
}
