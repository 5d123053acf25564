/**
 * The events of the contract additions as pure rules: derived ids (the same record gives the same
 * id), feed items without a subject ordered by their feed, retractions not announced, and a
 * reopening read from a transaction (a thread created unresolved is not one).
 */
import pino from 'pino'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { createThread, setResolved } from '../../protocol/index.ts'
import { createEvents, type ParleyEvent } from '../../core/events.ts'
import { readTransaction, type TransactionChanges } from '../../core/mentions/diff.ts'
import { announceDelivered, announceFeedItem, announceThreadCreated, type RecordedFeedActivity } from '../../core/webhooks/announce.ts'
import { webhookSubject } from '../../core/webhooks/events.ts'

function recorder() {
  const seen: ParleyEvent[] = []
  const events = createEvents(pino({ level: 'silent' }), () => undefined)
  events.onAny((e) => void seen.push(e))
  return { events, seen }
}

const activity = (over: Partial<RecordedFeedActivity> = {}): RecordedFeedActivity => ({
  id: 'item:user:ben:launch',
  kind: 'add',
  itemId: 'launch',
  type: 'release',
  subjectId: null,
  threadId: null,
  commentId: null,
  actorIds: ['ana'],
  summary: 'Version 2',
  priority: 'medium',
  at: 1,
  feeds: ['user:ben'],
  ...over,
})

describe('announcements from once-only records', () => {
  it('derive the id from the record: the same fact twice has one id, another fact another', () => {
    const { events, seen } = recorder()
    const thread = { subjectId: 's', threadId: 't', commentId: 'c', authorId: 'ana' }
    announceThreadCreated(events, thread)
    announceThreadCreated(events, thread)
    announceThreadCreated(events, { ...thread, threadId: 'u' })
    const delivery = { userId: 'ben', notificationId: 'n', subjectId: 's', channel: 'push', deviceId: 'd', attempts: 1, round: 10 }
    announceDelivered(events, delivery)
    announceDelivered(events, { ...delivery, attempts: 2 })
    announceDelivered(events, { ...delivery, round: 11 })
    const ids = seen.map((e) => e.id)
    expect(ids[0]).toBe(ids[1])
    expect(ids[2]).not.toBe(ids[0])
    expect(ids[3]).toBe(ids[4])
    expect(ids[5]).not.toBe(ids[3])
    for (const id of ids) expect(id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/)
  })

  it('announce added feed activity with its feeds (ordered by the first feed without a subject), never a retraction', () => {
    const { events, seen } = recorder()
    announceFeedItem(events, activity())
    announceFeedItem(events, activity({ kind: 'retract' }))
    announceFeedItem(events, activity({ id: 'comment:s:c', subjectId: 's', feeds: ['subject:s', 'user:ana'] }))
    expect(seen.map((e) => e.type)).toEqual(['feed.item.created', 'feed.item.created'])
    expect(seen.map((e) => webhookSubject(e))).toEqual(['feed:user:ben', 'subject:s'])
    expect(seen[0]?.data).toMatchObject({ itemId: 'launch', feedIds: ['user:ben'], summary: 'Version 2' })
  })
})

describe('a reopening read from a transaction', () => {
  function changesOf(doc: Y.Doc, write: () => void): TransactionChanges {
    let changes: TransactionChanges | undefined
    const listener = (tr: Y.Transaction) => (changes = readTransaction(tr))
    doc.on('afterTransaction', listener)
    doc.transact(write)
    doc.off('afterTransaction', listener)
    if (!changes) throw new Error('no transaction')
    return changes
  }

  it('is a thread set back to unresolved, not a new thread', () => {
    const doc = new Y.Doc()
    const ctx = { doc, userId: 'ana' }
    let threadId = ''
    expect(changesOf(doc, () => (threadId = createThread(ctx, 'hi').threadId)).reopened ?? []).toHaveLength(0)
    expect(changesOf(doc, () => setResolved(ctx, threadId, true)).resolved).toHaveLength(1)
    const reopened = changesOf(doc, () => setResolved(ctx, threadId, false))
    expect(reopened.reopened).toHaveLength(1)
    expect(reopened.resolved).toHaveLength(0)
  })
})
