/**
 * The mention storm against a real server: a comment naming 1,000 made-up users notifies the
 * first 20; one update of 5 comments × 1,000 `@handles` (the storm of issue 13) notifies at most
 * the author's 60 per minute and loads that many inboxes, no more; every dropped mention is
 * counted in `parley_mentions_dropped_total`. Made-up ids read the subject through its default
 * role, so without the bounds every one of them would be notified. (The write guard refuses an
 * update of more than MAX_UPDATE_STRUCTS structs, about 500 attribute mentions, so the 1,000
 * attribute mentions arrive in several edits of one comment; plain `@handles` are one struct.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CommentField, createThread, findComment, getThread, type BodyRun } from '../../protocol/index.ts'
import { MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE, MAX_MENTIONS_PER_COMMENT } from '../../core/notifications/mention-limits.ts'
import { acknowledged } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { startWorld, type World } from '../notifications/setup.ts'

const SUBJECT = 'storm'
const MENTIONS_PER_COMMENT = 1_000
/** Attribute mentions per edit, under the guard's struct budget (about 4 structs each). */
const MENTIONS_PER_EDIT = 250

const pad = (i: number) => String(i).padStart(4, '0')

/** Attribute mentions of made-up users `<prefix>NNNN`, from `from` (about 7 characters each). */
function mentionRuns(prefix: string, from: number, count: number): BodyRun[] {
  return Array.from({ length: count }, (_, i) => [{ text: `@${prefix}${pad(from + i)}`, mention: `${prefix}${pad(from + i)}` }, { text: ' ' }]).flat()
}

async function droppedTotal(world: World, reason: 'per_comment' | 'per_author'): Promise<number> {
  const text = await (await fetch(`${world.s.server.httpUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`parley_mentions_dropped_total{reason="${reason}"}`))
  return line ? Number(line.split(' ').at(-1)) : 0
}

/** Mentions handled (recorded, whatever their outcome) in the subject. */
async function handledCount(world: World): Promise<number> {
  const handled = await world.s.server.storage.notifications.handled(SUBJECT)
  return [...handled.mentions.values()].reduce((sum, users) => sum + users.size, 0)
}

/** Users among `ids` with a notification, and how many notifications they have in all. */
async function notifiedAmong(world: World, ids: readonly string[]): Promise<{ users: string[]; total: number }> {
  const users: string[] = []
  let total = 0
  for (const id of ids) {
    const found = (await world.notifications(id)).length
    if (found > 0) users.push(id)
    total += found
  }
  return { users, total }
}

describe('mention bounds on a real server', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    const open = await rest(world.s, 'PUT', `/api/v1/subjects/${SUBJECT}`, { bearer: TEST_API_KEY, json: { defaultRole: 'comment' } })
    expect(open.status).toBe(200)
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('a comment with 1,000 mentions notifies the first 20, records no more, and counts the rest', async () => {
    expect(MAX_MENTIONS_PER_COMMENT).toBe(20)
    const before = await droppedTotal(world, 'per_comment')
    const ana = await world.open(SUBJECT, 'ana')
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, mentionRuns('a', 0, MENTIONS_PER_EDIT))
    const body = findComment(getThread(ana.doc, threadId), commentId).get(CommentField.body)
    if (!(body instanceof Y.Text)) throw new Error('no body')
    for (let from = MENTIONS_PER_EDIT; from < MENTIONS_PER_COMMENT; from += MENTIONS_PER_EDIT) {
      ana.doc.transact(() => {
        for (const run of mentionRuns('a', from, MENTIONS_PER_EDIT)) body.insert(body.length, run.text, 'mention' in run ? { mention: run.mention } : {})
      })
    }
    await acknowledged(ana)
    // Each of the 4 detections drops what is past the first 20: at least the 980 of the whole comment.
    await waitFor(
      async () => (await droppedTotal(world, 'per_comment')) - before >= MENTIONS_PER_COMMENT - MAX_MENTIONS_PER_COMMENT,
      'the dropped mentions counted',
    )
    await waitFor(async () => (await handledCount(world)) >= MAX_MENTIONS_PER_COMMENT, '20 mentions handled')
    const ids = Array.from({ length: MENTIONS_PER_COMMENT }, (_, i) => `a${pad(i)}`)
    await waitFor(async () => (await notifiedAmong(world, ids.slice(0, MAX_MENTIONS_PER_COMMENT))).total === MAX_MENTIONS_PER_COMMENT, '20 notified')
    const notified = await notifiedAmong(world, ids)
    expect(notified.total).toBe(MAX_MENTIONS_PER_COMMENT)
    expect(notified.users).toEqual(ids.slice(0, MAX_MENTIONS_PER_COMMENT))
    expect(await handledCount(world)).toBe(MAX_MENTIONS_PER_COMMENT)
    expect(world.eventsOf('mention.created')).toHaveLength(MAX_MENTIONS_PER_COMMENT)
    expect((await droppedTotal(world, 'per_comment')) - before).toBeLessThanOrEqual(4 * (MENTIONS_PER_COMMENT - MAX_MENTIONS_PER_COMMENT))
  })

  it('the storm: one update of 5 × 1,000 mentions notifies at most 60, and loads no more inboxes than that', async () => {
    expect(MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE).toBe(60)
    // 1,080 directory users; comment c names h[20c] … h[20c + 999], so the first 20 of each comment differ.
    const handle = (i: number) => `h${pad(i)}`
    for (let i = 0; i < MENTIONS_PER_COMMENT + 80; i++) await world.s.server.storage.users.putProfile(`user-${handle(i)}`, { name: null, handle: handle(i) })
    const [commentsBefore, authorBefore] = [await droppedTotal(world, 'per_comment'), await droppedTotal(world, 'per_author')]
    const cid = await world.open(SUBJECT, 'cid')
    const doc: Y.Doc = cid.doc
    doc.transact(() => {
      for (let c = 0; c < 5; c++)
        createThread({ doc, userId: 'cid' }, Array.from({ length: MENTIONS_PER_COMMENT }, (_, i) => `@${handle(20 * c + i)}`).join(' '))
    })
    await acknowledged(cid, 30_000)
    // Each comment: 20 looked at (100 in all); the author's minute allows 60 of them.
    await waitFor(async () => (await handledCount(world)) >= 5 * MAX_MENTIONS_PER_COMMENT, '100 mentions handled', 30_000)
    await waitFor(async () => (await droppedTotal(world, 'per_author')) - authorBefore === 5 * MAX_MENTIONS_PER_COMMENT - 60, '40 capped', 30_000)
    expect((await droppedTotal(world, 'per_comment')) - commentsBefore).toBe(5 * (MENTIONS_PER_COMMENT - MAX_MENTIONS_PER_COMMENT))
    const pool = Array.from({ length: MENTIONS_PER_COMMENT + 80 }, (_, i) => `user-${handle(i)}`)
    const notified = await notifiedAmong(world, pool)
    expect(notified.total).toBe(60)
    expect(notified.users.every((id) => pool.indexOf(id) < 100)).toBe(true)
    expect(world.eventsOf('mention.created')).toHaveLength(60)
    // Inboxes the projector opened, the comments document and nothing else.
    await waitFor(() => world.s.server.hocuspocus.getDocumentsCount() >= 1, 'documents loaded')
    expect(world.s.server.hocuspocus.getDocumentsCount()).toBeLessThanOrEqual(1 + 60)
    // A further mention by the same author within the minute is recorded as capped, not notified.
    const { commentId } = createThread({ doc, userId: 'cid' }, [{ text: '@Ben', mention: 'ben' }])
    await acknowledged(cid)
    await waitFor(
      async () => (await world.s.server.storage.notifications.handled(SUBJECT)).mentions.get(commentId)?.has('ben') === true,
      'the mention of ben handled',
    )
    expect(await world.notifications('ben')).toEqual([])
    // Another author still has a budget of their own.
    const ana = await world.open(SUBJECT, 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: '@Ben', mention: 'ben' }])
    await waitFor(async () => (await world.notifications('ben')).length === 1, 'ana’s mention of ben notified')
  }, 60_000)
})
