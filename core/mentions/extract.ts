/**
 * Mentions in a comment body: runs carrying the `mention` attribute name a user id; plain
 * `@handle` text names a handle the directory resolves. A handle preceded by a letter, digit or
 * combining mark is not a mention (`ana@example.com`), and punctuation around it is not part of
 * it (`(@ana)`, `@ana,`, `@ana.`). Handles may be in any script (`@zoë`, `@小明`).
 */
import type { BodyRun } from '../../protocol/index.ts'

/** Longest handle the directory accepts. */
export const MAX_HANDLE_LENGTH = 64

/** `@` not after a letter, digit or mark, then handle characters: letters, marks, digits and `_ . -`. */
const HANDLE = /(?<![\p{L}\p{M}\p{N}])@([\p{L}\p{M}\p{N}_.-]+)/gu

/** Characters that end a sentence or clause rather than a handle. */
const TRAILING = /[.\-_]+$/u

export interface ExtractedMentions {
  /** User ids from mention runs, once each, in order. */
  userIds: string[]
  /** Handles from plain text, lower-cased, once each, in order (resolved through the directory). */
  handles: string[]
}

/** Plain `@handle` text in one string, lower-cased, once each, in order (a set: a body may hold thousands). */
function collectHandles(text: string, into: Set<string>): void {
  for (const match of text.matchAll(HANDLE)) {
    const handle = (match[1] ?? '').replace(TRAILING, '')
    if (handle.length > 0 && handle.length <= MAX_HANDLE_LENGTH) into.add(handle.toLowerCase())
  }
}

/** Plain `@handle` text in one string. */
export function handlesIn(text: string): string[] {
  const handles = new Set<string>()
  collectHandles(text, handles)
  return [...handles]
}

/** User ids from mention runs, once each, in order (no text scan: what the `comment.*` events carry). */
export function mentionedUserIds(runs: readonly BodyRun[]): string[] {
  const userIds = new Set<string>()
  for (const run of runs) if ('mention' in run) userIds.add(run.mention)
  return [...userIds]
}

export function extractMentions(runs: readonly BodyRun[]): ExtractedMentions {
  const userIds = new Set<string>()
  // Plain text runs are joined (a mention run in between separates them), so that a handle split
  // across runs with different formatting, or typed in two edits, reads whole.
  const plain: string[] = []
  let current = ''
  for (const run of runs) {
    if ('mention' in run) {
      userIds.add(run.mention)
      plain.push(current)
      current = ''
    } else {
      current += run.text
    }
  }
  plain.push(current)
  const handles = new Set<string>()
  for (const text of plain) collectHandles(text, handles)
  return { userIds: [...userIds], handles: [...handles] }
}
