/**
 * Role resolution with real storage, on each backend: the token's claim, stored membership, the
 * subject's default role and dev mode combine into the highest role; inbox and feed rules hold
 * whatever membership says; a user who never connected is answered from storage alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAccessResolver, type AccessResolver } from '../../core/access/resolve.ts'
import type { Role } from '../../protocol/index.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import type { Storage } from '../../core/storage/types.ts'
import { BACKENDS } from './backends.ts'

function user(id: string, access?: ParleyUser['access'], extra: Partial<ParleyUser> = {}): ParleyUser {
  return { id, name: undefined, handle: undefined, access, expiresAt: undefined, ...extra }
}

describe.each(BACKENDS)('role resolution on $name', (backend) => {
  let storage: Storage
  let dispose: () => Promise<void>
  let access: AccessResolver

  beforeEach(async () => {
    ;({ storage, dispose } = await backend.openStorage())
    access = createAccessResolver({ storage, devMode: false })
    await storage.subjects.put('s1', 'read')
    await storage.subjects.putMember('s1', 'ana', 'comment')
    await storage.subjects.putMember('s1', 'mod', 'moderate')
  })
  afterEach(async () => {
    await dispose()
  })

  it('takes the highest of claim, membership and default role', async () => {
    expect(await access.decide(user('ana'), 'comments/s1')).toEqual({ ok: true, value: { role: 'comment', readOnly: false } })
    expect(await access.decide(user('ana', { 'comments/s1': 'moderate' }), 'comments/s1')).toMatchObject({ ok: true, value: { role: 'moderate' } })
    expect(await access.decide(user('ana', { '*': 'read' }), 'comments/s1')).toMatchObject({ ok: true, value: { role: 'comment' } })
    expect(await access.decide(user('zed'), 'comments/s1')).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(await access.decide(user('mod', { '*': 'read' }), 'comments/s1')).toMatchObject({ ok: true, value: { role: 'moderate' } })
    // A subject without default role or membership: only the claim counts.
    expect(await access.decide(user('ana'), 'comments/s2')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await access.decide(user('ana', { 'comments/s*': 'read' }), 'comments/s2')).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
  })

  it('never opens another user’s inbox and keeps feeds read-only, whatever membership says', async () => {
    await storage.subjects.putMember('ben', 'ana', 'moderate')
    expect(await access.decide(user('ana', { '*': 'moderate' }), 'inbox/ben')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await access.decide(user('ana'), 'inbox/ana')).toMatchObject({ ok: true, value: { role: 'read' } })
    expect(await access.decide(user('ana'), 'feed/user:ana')).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    // Membership is per subject: it gives nothing on a feed of the same id.
    expect(await access.decide(user('ana'), 'feed/s1')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await access.decide(user('ana', { '*': 'moderate' }), 'feed/news')).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(await access.decide(user('ana'), 'comments/a/b')).toMatchObject({ ok: false, error: { code: 'invalid_document_name' } })
  })

  it('adds comment in dev mode, below a stored moderator', async () => {
    const dev = createAccessResolver({ storage, devMode: true })
    expect(await dev.decide(user('zed'), 'comments/anything')).toEqual({ ok: true, value: { role: 'comment', readOnly: false } })
    expect(await dev.decide(user('mod'), 'comments/s1')).toMatchObject({ ok: true, value: { role: 'moderate' } })
  })

  it('answers for a user who never connected, from membership and default role', async () => {
    expect(await storage.users.get('bob')).toBeNull()
    expect(await access.decideRemembered('bob', 'comments/s1')).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(await access.decideRemembered('bob', 'comments/s2')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    await storage.subjects.putMember('s2', 'bob', 'comment')
    expect(await access.decideRemembered('bob', 'comments/s2')).toEqual({ ok: true, value: { role: 'comment', readOnly: false } })
    expect(await access.decideRemembered('bob', 'inbox/bob')).toMatchObject({ ok: true, value: { role: 'read' } })
    expect(await access.decideRemembered('bob', 'inbox/ana')).toMatchObject({ ok: false })
  })

  it("answers for a user who is not connected from their latest token's claim", async () => {
    await access.remember(user('carl', { 'comments/team-*': 'comment' }, { name: 'Carl', handle: 'carl' }))
    expect(await access.decideRemembered('carl', 'comments/team-1')).toMatchObject({ ok: true, value: { role: 'comment' } })
    expect(await access.decideRemembered('carl', 'comments/s2')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await storage.users.get('carl')).toMatchObject({ name: 'Carl', handle: 'carl' })
    // The latest token has no claim: nothing is left from the earlier one.
    await access.remember(user('carl'))
    expect(await access.decideRemembered('carl', 'comments/team-1')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await access.decideRemembered('carl', 'comments/s1')).toMatchObject({ ok: true, value: { role: 'read' } })
  })

  it('keeps only the readers of a subject among users', async () => {
    await storage.subjects.putMember('closed', 'ana', 'read')
    const users: Array<{ id: string; access: Record<string, Role> | null }> = [
      { id: 'ana', access: null },
      { id: 'ben', access: null },
      { id: 'cyd', access: { 'comments/closed': 'read' } },
      { id: 'dan', access: { 'comments/other': 'moderate' } },
    ]
    expect((await access.filterReaders('comments/closed', users)).map((u) => u.id)).toEqual(['ana', 'cyd'])
    await storage.subjects.put('closed', 'read')
    expect((await access.filterReaders('comments/closed', users)).map((u) => u.id)).toEqual(['ana', 'ben', 'cyd', 'dan'])
  })

  it('answers a batch of remembered users as one by one would (notification recipients)', async () => {
    await storage.subjects.putMember('closed', 'ana', 'read')
    await storage.users.rememberToken('cyd', { name: undefined, handle: undefined, access: { 'comments/closed': 'read' } })
    await storage.users.rememberToken('dan', { name: undefined, handle: undefined, access: { 'comments/other': 'moderate' } })
    await storage.users.rememberToken('eve', { name: undefined, handle: undefined, access: { '*': 'comment' } })
    await storage.moderation.putBan({ subjectId: 'closed', userId: 'eve', reason: 'spam', until: null, bannedBy: 'mod', at: 1 })
    const ids = ['ana', 'ben', 'cyd', 'dan', 'eve', 'never-seen']
    const oneByOne = async () => {
      const readers: string[] = []
      for (const id of ids) if ((await access.decideRemembered(id, 'comments/closed')).ok) readers.push(id)
      return readers
    }
    expect([...(await access.readersAmong(ids, 'comments/closed'))].sort()).toEqual(await oneByOne())
    expect(await oneByOne()).toEqual(['ana', 'cyd', 'eve'])
    await storage.subjects.put('closed', 'read')
    expect([...(await access.readersAmong(ids, 'comments/closed'))].sort()).toEqual(await oneByOne())
    expect(await oneByOne()).toEqual(ids)
  })

  it('decides from the token alone when storage does not answer, and says when that is not enough', async () => {
    await storage.close()
    expect(await access.decide(user('ana', { '*': 'comment' }), 'comments/s1')).toMatchObject({ ok: true, value: { role: 'comment' }, degraded: true })
    expect(await access.decide(user('ana'), 'comments/s1')).toMatchObject({ ok: false, error: { code: 'storage_unavailable' } })
    expect(await access.decide(user('ana'), 'inbox/ben')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    await expect(access.decideRemembered('ana', 'comments/s1')).rejects.toThrow()
  })
})
