/**
 * extensions/mentions: mention extraction (extract.ts) and what one transaction did to a comments
 * document (diff.ts), in process, on plain Y.Docs.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { readTransaction, type TransactionChanges } from '../../core/mentions/diff.ts'
import { extractMentions, handlesIn, MAX_HANDLE_LENGTH } from '../../core/mentions/extract.ts'
import {
  CommentField,
  ThreadField,
  createThread,
  deleteComment,
  editComment,
  markRead,
  react,
  reply,
  setResolved,
  setSubscription,
  unreact,
  type WriteContext,
} from '../../protocol/index.ts'

describe('PROTOCOL §Mentions and notifications: plain @handle text', () => {
  it.each<[string, string[]]>([
    ['(@ana)', ['ana']],
    ['@ana,', ['ana']],
    ['@zoë.', ['zoë']],
    ['@小明!', ['小明']],
    ['hi @Ana and @ANA', ['ana']],
    ['@ben_ @cid-- @dan...', ['ben', 'cid', 'dan']],
    ['@a.b-c_d', ['a.b-c_d']],
    ['@x @y @x', ['x', 'y']],
    ['line\n@ana', ['ana']],
  ])('%j names %j', (text, handles) => {
    expect(handlesIn(text)).toEqual(handles)
  })

  it.each(['ana@example.com', 'x1@ana', 'é@ana', 'e\u0301@ana', '@', '@ ana', '@...', '@-'])('%j names nobody', (text) => {
    expect(handlesIn(text)).toEqual([])
  })

  it(`ignores handles longer than ${MAX_HANDLE_LENGTH} characters`, () => {
    expect(handlesIn(`@${'a'.repeat(MAX_HANDLE_LENGTH)}`)).toEqual(['a'.repeat(MAX_HANDLE_LENGTH)])
    expect(handlesIn(`@${'a'.repeat(MAX_HANDLE_LENGTH + 1)}`)).toEqual([])
  })
})

describe('PROTOCOL §Comment document schema: mention runs and handles in a body', () => {
  it('takes user ids from mention runs, once each, in order', () => {
    expect(extractMentions([{ text: '@B', mention: 'ben' }, { text: ' and ' }, { text: '@A', mention: 'ana' }, { text: '@B', mention: 'ben' }])).toEqual({
      userIds: ['ben', 'ana'],
      handles: [],
    })
  })

  it('reads a handle split across plain runs whole, but not across a mention run', () => {
    expect(extractMentions([{ text: 'hi @an' }, { text: 'a!' }])).toEqual({ userIds: [], handles: ['ana'] })
    expect(extractMentions([{ text: 'hi @an' }, { text: '@X', mention: 'x' }, { text: 'a' }])).toEqual({ userIds: ['x'], handles: ['an'] })
  })

  it('does not read a mention run’s shown text as a handle', () => {
    expect(extractMentions([{ text: '@Ben', mention: 'u_ben' }])).toEqual({ userIds: ['u_ben'], handles: [] })
  })

  it('keeps a body of 50,000 distinct handles linear (a mention storm, issue 13)', () => {
    const handles = Array.from({ length: 50_000 }, (_, i) => `h${i}`)
    const started = performance.now()
    const found = extractMentions([{ text: handles.map((h) => `@${h}`).join(' ') + ' @h0' }])
    const ms = performance.now() - started
    expect(found.handles).toEqual(handles)
    // Linear: tens of ms; a list scanned per handle (quadratic) takes seconds.
    expect(ms).toBeLessThan(1_000)
  })
})

interface Seen {
  created: string[]
  bodyChanged: string[]
  deleted: string[]
  edited: string[]
  reactions: string[]
  resolved: string[]
}

function summary(changes: TransactionChanges): Seen {
  const ids = (filter: (t: { created: boolean; bodyChanged: boolean; deleted: boolean; edited: boolean }) => boolean) =>
    [...changes.comments.values()].filter(filter).map((t) => `${String(t.thread.get(ThreadField.id))}/${String(t.comment.get(CommentField.id))}`)
  return {
    created: ids((t) => t.created),
    bodyChanged: ids((t) => t.bodyChanged),
    deleted: ids((t) => t.deleted),
    edited: ids((t) => t.edited),
    reactions: changes.reactions.map((r) => `${String(r.comment.get(CommentField.id))} ${r.key} ${r.added ? 'added' : 'removed'}`),
    resolved: changes.resolved.map((t) => String(t.get(ThreadField.id))),
  }
}

/** A document whose transactions are read as the mentions extension reads them. */
function watched(): { doc: Y.Doc; seen: Seen[]; ctx: (userId: string, ids?: string[]) => WriteContext } {
  const doc = new Y.Doc()
  const seen: Seen[] = []
  doc.on('afterTransaction', (tr: Y.Transaction) => seen.push(summary(readTransaction(tr))))
  let time = 1_700_000_000_000
  return { doc, seen, ctx: (userId, ids = []) => ({ doc, userId, now: () => ++time, newId: () => ids.shift() ?? `id${time}` }) }
}

const nothing: Seen = { created: [], bodyChanged: [], deleted: [], edited: [], reactions: [], resolved: [] }

describe('PROTOCOL §Mentions and notifications: what a transaction did, read from the transaction', () => {
  it('reads each transaction once for every listener (detection, search and feeds share the reading)', () => {
    const doc = new Y.Doc()
    const readings: Array<[Y.Transaction, TransactionChanges]> = []
    for (let listener = 0; listener < 3; listener++) doc.on('afterTransaction', (tr: Y.Transaction) => readings.push([tr, readTransaction(tr)]))
    createThread({ doc, userId: 'ana' }, 'hello')
    createThread({ doc, userId: 'ben' }, 'again')
    expect(readings).toHaveLength(6)
    expect(readings[1]![1]).toBe(readings[0]![1])
    expect(readings[2]![1]).toBe(readings[0]![1])
    expect(readings[3]![1]).not.toBe(readings[0]![1])
    expect(readings[3]![1].comments.size).toBe(1)
  })

  it('sees a new thread’s first comment and a reply as created', () => {
    const { doc: _doc, seen, ctx } = watched()
    createThread(ctx('ana', ['t1', 'c1']), 'hi @ben')
    reply(ctx('ben', ['c2']), 't1', 'hello')
    expect(seen).toEqual([
      { ...nothing, created: ['t1/c1'] },
      { ...nothing, created: ['t1/c2'] },
    ])
  })

  it('sees an edit (body and editedAt) and a deletion', () => {
    const { seen, ctx } = watched()
    createThread(ctx('ana', ['t1', 'c1']), 'before')
    editComment(ctx('ana'), 't1', 'c1', 'after @cid')
    deleteComment(ctx('ana'), 't1', 'c1')
    expect(seen.slice(1)).toEqual([
      { ...nothing, bodyChanged: ['t1/c1'], edited: ['t1/c1'] },
      { ...nothing, bodyChanged: ['t1/c1'], deleted: ['t1/c1'] },
    ])
  })

  it('sees reactions added and removed, and a thread resolved (not reopened)', () => {
    const { seen, ctx } = watched()
    createThread(ctx('ana', ['t1', 'c1']), 'x')
    react(ctx('ben'), 't1', 'c1', '👍')
    unreact(ctx('ben'), 't1', 'c1', '👍')
    setResolved(ctx('ben'), 't1', true)
    setResolved(ctx('ben'), 't1', false)
    expect(seen.slice(1)).toEqual([
      { ...nothing, reactions: ['c1 👍|ben added'] },
      { ...nothing, reactions: ['c1 👍|ben removed'] },
      { ...nothing, resolved: ['t1'] },
      nothing,
    ])
  })

  it('sees nothing in read markers, subscriptions or types outside the schema', () => {
    const { doc, seen, ctx } = watched()
    createThread(ctx('ana', ['t1', 'c1']), 'x')
    markRead(ctx('ben'), 't1')
    setSubscription(ctx('ben'), 't1', true)
    doc.getMap('other').set('k', new Y.Map([['comments', new Y.Array()]]))
    expect(seen.slice(1)).toEqual([nothing, nothing, nothing])
  })

  it('reads a remote update (one user’s whole offline session) as the server receives it', () => {
    const client = new Y.Doc()
    let time = 1_700_000_000_000
    const as = (userId: string, ids: string[] = []): WriteContext => ({ doc: client, userId, now: () => ++time, newId: () => ids.shift() ?? `id${time}` })
    createThread(as('ana', ['t1', 'c1']), 'first')
    const server = watched()
    // The server's document has its roots typed before any client writes (the guard does it on load).
    server.doc.getMap('threads')
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(client))
    const before = Y.encodeStateVector(client)
    reply(as('ben', ['c2']), 't1', 'second')
    reply(as('ben', ['c3']), 't1', 'third')
    editComment(as('ben'), 't1', 'c2', 'second, edited')
    react(as('ben'), 't1', 'c1', '🎉')
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(client, before))
    expect(server.seen).toEqual([
      { ...nothing, created: ['t1/c1'] },
      { ...nothing, created: ['t1/c2', 't1/c3'], reactions: ['c1 🎉|ben added'] },
    ])
  })
})
