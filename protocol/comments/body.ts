/** Comment bodies: Y.Text runs where a mention is text carrying the `mention` attribute. */
import * as Y from 'yjs'
import { ErrorCode, ParleyError } from '../errors.ts'
import { MAX_COMMENT_LENGTH } from '../limits.ts'
import { isValidId } from '../names.ts'
import { MENTION_ATTRIBUTE, type BodyInput, type BodyRun } from './fields.ts'

export function normalizeBody(body: BodyInput): BodyRun[] {
  const runs = typeof body === 'string' ? [{ text: body }] : [...body]
  let length = 0
  for (const run of runs) {
    if (typeof run.text !== 'string') throw new ParleyError(ErrorCode.InvalidRequest, 'every body run needs text')
    if ('mention' in run && !isValidId(run.mention)) {
      throw new ParleyError(ErrorCode.InvalidRequest, `mention "${String(run.mention)}" is not a user id`)
    }
    length += run.text.length
  }
  if (length === 0) throw new ParleyError(ErrorCode.InvalidRequest, 'a comment body cannot be empty')
  if (length > MAX_COMMENT_LENGTH) {
    throw new ParleyError(ErrorCode.TooLarge, `a comment body is at most ${MAX_COMMENT_LENGTH} characters (got ${length})`)
  }
  return runs.filter((run) => run.text.length > 0)
}

/** Writes runs at the end of a Y.Text (mention runs carry the attribute, plain runs explicitly none). */
export function writeRuns(text: Y.Text, runs: ReadonlyArray<BodyRun>): void {
  for (const run of runs) {
    const attributes = 'mention' in run ? { [MENTION_ATTRIBUTE]: run.mention } : { [MENTION_ATTRIBUTE]: null }
    text.insert(text.length, run.text, attributes)
  }
}

/** A new Y.Text holding the runs, for a comment created in the same transaction. */
export function bodyText(runs: ReadonlyArray<BodyRun>): Y.Text {
  // Attributes cannot be set on a Y.Text before it is integrated, so prelim text takes a delta.
  const text = new Y.Text()
  text.applyDelta(runs.map((run) => ('mention' in run ? { insert: run.text, attributes: { [MENTION_ATTRIBUTE]: run.mention } } : { insert: run.text })))
  return text
}

interface DeltaOp {
  insert?: unknown
  attributes?: Record<string, unknown>
}

export function readRuns(text: Y.Text): BodyRun[] {
  const runs: BodyRun[] = []
  for (const op of text.toDelta() as DeltaOp[]) {
    if (typeof op.insert !== 'string') continue
    const mention = op.attributes?.[MENTION_ATTRIBUTE]
    runs.push(typeof mention === 'string' ? { text: op.insert, mention } : { text: op.insert })
  }
  return runs
}

export function runsToText(runs: ReadonlyArray<BodyRun>): string {
  return runs.map((run) => run.text).join('')
}

/** Mentioned user ids from attribute runs, once each, in order. */
export function mentionedIds(runs: ReadonlyArray<BodyRun>): string[] {
  const ids: string[] = []
  for (const run of runs) if ('mention' in run && !ids.includes(run.mention)) ids.push(run.mention)
  return ids
}
