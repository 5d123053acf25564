/**
 * Failures the fuzz found, pinned: each is a seed's run minimised (node test/fuzz/cli.ts <seed>
 * --minimise --known) to the few actions that still fail the same way. A script is self-contained
 * (the seed gives only the client ids; the actions are listed), so later changes to the driver do
 * not change it. Every test first checks that the script still plays its scenario (the log lines),
 * then asserts what the contract asks: no honest write refused, everyone converges. Each failed
 * until its fix; a failure not fixed yet is listed in test/fuzz/known-issues.ts (the seeded runs
 * leave it out meanwhile).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, deleteComment, editComment, findComment, getThread, react, reply } from '../../protocol/index.ts'
import type { GuardVerdict } from '../../core/guard/check.ts'
import { GuardedDoc } from '../unit/guard-fixture.ts'
import { replay, scriptOf } from './driver.ts'
import { FuzzServer } from './server.ts'
import { problems } from './verdict.ts'
import type { Action } from './world.ts'

async function expectConverges(seed: number, actions: Action[], scenario: string[]): Promise<void> {
  const result = await replay(scriptOf(seed, actions))
  for (const line of scenario)
    expect(
      result.log.some((l) => l.includes(line)),
      `the script still plays "${line}"`,
    ).toBe(true)
  expect(problems(result).map((p) => p.text)).toEqual([])
}

/**
 * Mallory's honest reply overtakes the update before it, a forged reaction in ana's name: the reply
 * is taken (pending, it waits for the reaction), the reaction is refused. Meanwhile ana's replica
 * (the bystander) and another device of mallory's got the pending reply in a sync step 2. Then
 * `then` runs, with mallory's refused client id.
 */
async function withStrandedReply(
  then: (server: FuzzServer, sender: { userId: string; role: 'comment' }, devices: { bystander: Y.Doc; otherDevice: Y.Doc; refused: number }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-fuzz-'))
  const server = await FuzzServer.start(path.join(dir, 'parley.db'), 1, () => undefined)
  try {
    const ana = new Y.Doc()
    let n = 0
    createThread({ doc: ana, userId: 'ana', newId: () => `a${++n}` }, 'first words')
    expect(await server.receive({ userId: 'ana', role: 'comment' }, Y.encodeStateAsUpdate(ana))).toBeNull()
    const mallory = new Y.Doc()
    Y.applyUpdate(mallory, Y.encodeStateAsUpdate(server.doc))
    const start = Y.encodeStateVector(mallory)
    react({ doc: mallory, userId: 'ana' }, 'a1', 'a2', '👍')
    const forged = Y.encodeStateAsUpdate(mallory, start)
    const afterForged = Y.encodeStateVector(mallory)
    reply({ doc: mallory, userId: 'mallory' }, 'a1', 'honest words')
    const honest = Y.encodeStateAsUpdate(mallory, afterForged)
    const sender = { userId: 'mallory', role: 'comment' as const }
    expect(await server.receive(sender, honest)).toBeNull()
    expect(server.doc.store.pendingStructs).not.toBeNull()
    const bystander = new Y.Doc()
    const otherDevice = new Y.Doc()
    for (const device of [bystander, otherDevice]) Y.applyUpdate(device, Y.encodeStateAsUpdate(server.doc))
    expect(await server.receive(sender, forged)).toMatchObject({ code: 'write_rejected' })
    await then(server, sender, { bystander, otherDevice, refused: mallory.clientID })
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const op = (r: number, operation: Extract<Action, { t: 'op' }>['op'], a: number, b: number): Action => ({ t: 'op', r, op: operation, a, b })
const up = (r: number): Action => ({ t: 'up', r })
const down = (r: number): Action => ({ t: 'down', r })

const RACING_DELETION = 'guard: a write racing the deletion of its comment is taken (the server empties the body again)'

describe(`PROTOCOL §Write guard: ${RACING_DELETION}`, () => {
  it('seed 21: an author edits while a moderator hides the comment', async () => {
    await expectConverges(
      21,
      [op(3, 'createThread', 2354158635, 3460659193), up(3), down(4), op(3, 'edit', 3469886834, 1190293267), op(4, 'hide', 1129759408, 1504540657), up(4)],
      ['cid#3 createThread r3-1', 'cid#3 edit r3-1/r3-2', 'mod#4 hide r3-1/r3-2', 'mod#4 → server update [hide'],
    )
  })

  it('seed 4: one device edits while the other deletes', async () => {
    await expectConverges(
      4,
      [op(0, 'createThread', 2201960379, 3202874201), up(0), down(1), op(1, 'edit', 3734289285, 2595580742), op(0, 'delete', 1014055375, 1146630306)],
      ['ana#1 edit r0-1/r0-2', 'ana#0 delete r0-1/r0-2'],
    )
  })

  it('seed 12: both devices delete the same comment', async () => {
    await expectConverges(
      12,
      [op(1, 'createThread', 3947847950, 1110829883), up(1), op(1, 'delete', 2780600631, 810257005), down(0), op(0, 'delete', 645345986, 2603684809)],
      ['ana#1 delete r1-1/r1-2', 'ana#0 delete r1-1/r1-2'],
    )
  })

  it('seed 2: a moderator hides a comment its author has just deleted (the moderation record is kept)', async () => {
    await expectConverges(
      2,
      [
        op(4, 'createThread', 437404224, 761740043),
        up(4),
        down(1),
        op(1, 'reply', 3188135038, 881421975),
        op(1, 'delete', 1290192684, 3066719422),
        up(1),
        down(4),
        op(4, 'hide', 2399736589, 2659465631),
      ],
      ['ana#1 delete r4-1/r1-1', 'mod#4 hide r4-1/r1-1'],
    )
  })
})

describe(`PROTOCOL §Write guard: ${RACING_DELETION} (checkUpdate alone)`, () => {
  const T = 1_700_000_000_000
  function withComment(): GuardedDoc {
    const server = new GuardedDoc()
    const ids = ['t1', 'c1']
    const create = server.updateOf((doc) => createThread({ doc, userId: 'ana', now: () => T, newId: () => ids.shift() ?? 'x' }, 'words'))
    expect(server.accept({ userId: 'ana', role: 'comment' }, create)).toMatchObject({ ok: true })
    return server
  }
  const ana = { userId: 'ana', role: 'comment' } as const
  const refusalOf = (verdict: GuardVerdict) => (verdict.ok ? null : `${verdict.error.code}: ${verdict.error.reason}`)

  it('an edit made before the author saw a moderator’s hide', () => {
    const server = withComment()
    const edit = server.updateOf((doc) => editComment({ doc, userId: 'ana', now: () => T + 1 }, 't1', 'c1', 'better words'))
    const hide = server.updateOf((doc) => {
      const comment = findComment(getThread(doc, 't1'), 'c1')
      doc.transact(() => {
        comment.set('deletedAt', T + 2)
        comment.set('moderation', { hiddenBy: 'mod', reason: 'spam', at: T + 2 })
      })
    })
    expect(server.accept({ userId: 'mod', role: 'moderate' }, hide)).toMatchObject({ ok: true })
    expect(refusalOf(server.check(ana, edit))).toBeNull()
  })

  it('the same comment deleted on two devices', () => {
    const server = withComment()
    const first = server.updateOf((doc) => deleteComment({ doc, userId: 'ana', now: () => T + 1 }, 't1', 'c1'))
    const second = server.updateOf((doc) => deleteComment({ doc, userId: 'ana', now: () => T + 2 }, 't1', 'c1'))
    expect(server.accept(ana, first)).toMatchObject({ ok: true })
    expect(refusalOf(server.check(ana, second))).toBeNull()
  })
})

describe('PROTOCOL §Write guard (pending structs): a moderator removing words when the hide overtook an earlier update resyncs (out_of_sync), not write_rejected', () => {
  it('seed 55: the hide (deletedAt, moderation, words removed) overtakes the reopen before it', async () => {
    // The hide's map entries wait for the reopen (pending), but its deletion of the words applies
    // at once: without its hide it is not the moderator's to make. out_of_sync: the resync sends both.
    await expectConverges(
      55,
      [
        op(1, 'createThread', 403701456, 2010238515),
        up(1),
        down(4),
        op(4, 'reply', 1785660229, 1130063986),
        op(4, 'reopen', 532507218, 3088273863),
        op(4, 'hide', 1367341207, 3982877478),
        up(4),
        { t: 'reorder', r: 4 },
      ],
      [
        'mod#4 hide r1-1/r1-2 (words removed)',
        'mod#4: [hide (step 6)] overtakes [reopen (step 5)]',
        'mod#4 → server update [hide (step 6)] REFUSED out_of_sync',
        'mod#4 → server step2',
      ],
    )
  })
})

describe('PROTOCOL §Write guard (pending structs): after a refused update that others had overtaken, the user keeps writing', () => {
  it('seed 33: a reply overtakes an edit made before a hide; the edit is taken, the rebuilt document’s next write too', async () => {
    // Found as: the edit refused ("the comment is deleted"), then every later write of ben's
    // refused. The edit is ben's to make (the server empties the body again), so nothing is refused.
    await expectConverges(
      33,
      [
        op(2, 'createThread', 3235397627, 2750447798),
        up(2),
        down(4),
        op(2, 'edit', 2607363242, 2094272920),
        op(2, 'reply', 1587805931, 523065992),
        { t: 'reorder', r: 2 },
        op(4, 'hide', 3933247334, 3271032999),
        up(4),
        up(2),
        up(2),
        op(2, 'resolve', 174263419, 644439731),
      ],
      [
        'ben#2: [reply (step 5)] overtakes [edit (step 4)]',
        'mod#4 → server update [hide (step 7)]',
        'ben#2 → server update [edit (step 4)]',
        'ben#2 → server update [resolve (step 11)]',
      ],
    )
  })

  it('a forged update refused after an honest one that overtook it: the same user’s other devices and rebuilt documents keep writing', async () => {
    await withStrandedReply(async (server, sender, { otherDevice }) => {
      const fresh = new Y.Doc()
      Y.applyUpdate(fresh, Y.encodeStateAsUpdate(server.doc))
      const before = Y.encodeStateVector(fresh)
      reply({ doc: fresh, userId: 'mallory' }, 'a1', 'from a rebuilt document, under a new client id')
      expect(await server.receive(sender, Y.encodeStateAsUpdate(fresh, before))).toBeNull()
      // A device that got the stranded reply in its sync step 2 while it waited: its handshake and its writes pass.
      Y.applyUpdate(otherDevice, Y.encodeStateAsUpdate(server.doc, Y.encodeStateVector(otherDevice)))
      expect(await server.receive(sender, Y.encodeStateAsUpdate(otherDevice, Y.encodeStateVector(server.doc)))).toBeNull()
      const start = Y.encodeStateVector(otherDevice)
      reply({ doc: otherDevice, userId: 'mallory' }, 'a1', 'from the other device')
      expect(await server.receive(sender, Y.encodeStateAsUpdate(otherDevice, start))).toBeNull()
      expect(JSON.stringify(getThread(server.doc, 'a1').toJSON())).toContain('from the other device')
    })
  })
})

describe('PROTOCOL §Write guard (pending structs): structs that overtook a refused update are ended, not pending for ever', () => {
  it('seed 167: a read marker overtakes an edit of a comment deleted meanwhile; the edit is taken', async () => {
    // Found as: the edit refused ("the comment is deleted"), the read marker pending for ever on
    // the server, in storage and on every replica.
    await expectConverges(
      167,
      [
        op(2, 'createThread', 1269381884, 2576074255),
        up(2),
        down(0),
        op(0, 'reply', 2213403041, 2391190424),
        down(1),
        op(0, 'delete', 294151009, 2683926688),
        up(0),
        down(1),
        op(1, 'edit', 3044007591, 2706230679),
        op(1, 'markRead', 796393765, 2818148575),
        { t: 'reorder', r: 1 },
      ],
      ['ana#0 → server update [delete (step 6)]', 'ana#1: [markRead (step 10)] overtakes [edit (step 9)]', 'ana#1 → server update [edit (step 9)]'],
    )
  })

  it('a forged update refused after an honest one that overtook it: the honest structs are dropped on the server and in storage, and stay out', async () => {
    await withStrandedReply(async (server, _sender, { bystander, refused }) => {
      // The chain under that client id is refused from now on: what waits on it can never integrate.
      expect(server.doc.store.pendingStructs, 'structs of a refused client id still pending on the server').toBeNull()
      expect((await server.stored()).store.pendingStructs, 'and in storage').toBeNull()
      // Ana's replica got the stranded reply in a sync step 2 while it waited, and sends it back in
      // her next one: taken (nothing new), and neither kept nor stored.
      expect(bystander.store.pendingStructs).not.toBeNull()
      expect(await server.receive({ userId: 'ana', role: 'comment' }, Y.encodeStateAsUpdate(bystander, Y.encodeStateVector(server.doc)))).toBeNull()
      expect(server.doc.store.pendingStructs, 'on the server after a client sent it back').toBeNull()
      expect(
        Y.decodeUpdate(Y.encodeStateAsUpdate(server.doc)).structs.some((struct) => struct.id.client === refused),
        'in the server’s sync step 2',
      ).toBe(false)
      await server.compact()
      expect((await server.stored()).store.pendingStructs, 'in storage after it came back, and a compaction').toBeNull()
      await server.load(2)
      expect(server.doc.store.pendingStructs, 'after a reload').toBeNull()
      expect(JSON.stringify(getThread(server.doc, 'a1').toJSON())).not.toContain('honest words')
    })
  })
})
