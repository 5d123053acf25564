/**
 * The storage contract for subjects, membership and the user directory; run by every backend
 * through `storageContract` (contract.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Storage } from '../../server/storage/types.ts'
import type { BackendFactory } from './contract.ts'

export function accessContract(name: string, factory: BackendFactory): void {
  describe(`storage contract, subjects and users: ${name}`, () => {
    let storage: Storage

    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('knows no subject until one is registered, then keeps and changes its default role', async () => {
      expect(await storage.subjects.get('s1')).toBeNull()
      expect(await storage.subjects.storedRoles('s1', 'ana')).toEqual({ defaultRole: null, memberRole: null })
      const put = await storage.subjects.put('s1', 'read')
      expect(put).toMatchObject({ id: 's1', defaultRole: 'read' })
      expect(put.updatedAt).toBeGreaterThan(0)
      expect(await storage.subjects.get('s1')).toMatchObject({ id: 's1', defaultRole: 'read' })
      await storage.subjects.put('s1', null)
      expect(await storage.subjects.get('s1')).toMatchObject({ id: 's1', defaultRole: null })
    })

    it('sets, changes, lists and removes members; a member registers the subject', async () => {
      expect(await storage.subjects.putMember('room', 'ben', 'comment')).toMatchObject({ userId: 'ben', role: 'comment' })
      expect(await storage.subjects.get('room')).toMatchObject({ id: 'room', defaultRole: null })
      await storage.subjects.putMember('room', 'ana', 'read')
      await storage.subjects.putMember('room', 'ana', 'moderate')
      await storage.subjects.putMember('other', 'ana', 'read')
      expect(await storage.subjects.storedRoles('room', 'ana')).toEqual({ defaultRole: null, memberRole: 'moderate' })
      expect((await storage.subjects.listMembers('room')).map((m) => [m.userId, m.role])).toEqual([
        ['ana', 'moderate'],
        ['ben', 'comment'],
      ])
      const roles = await storage.subjects.memberRoles('room', ['ana', 'ben', 'cyd'])
      expect(Object.fromEntries(roles)).toEqual({ ana: 'moderate', ben: 'comment' })
      expect((await storage.subjects.memberRoles('room', [])).size).toBe(0)
      expect(await storage.subjects.removeMember('room', 'ana')).toBe(true)
      expect(await storage.subjects.removeMember('room', 'ana')).toBe(false)
      expect(await storage.subjects.storedRoles('room', 'ana')).toEqual({ defaultRole: null, memberRole: null })
      expect(await storage.subjects.storedRoles('other', 'ana')).toEqual({ defaultRole: null, memberRole: 'read' })
    })

    it('answers default role and membership together', async () => {
      await storage.subjects.put('open', 'comment')
      await storage.subjects.putMember('open', 'mod', 'moderate')
      expect(await storage.subjects.storedRoles('open', 'mod')).toEqual({ defaultRole: 'comment', memberRole: 'moderate' })
      expect(await storage.subjects.storedRoles('open', 'anyone')).toEqual({ defaultRole: 'comment', memberRole: null })
      // Setting the default role leaves the members alone, and a member leaves the default role alone.
      await storage.subjects.put('open', 'read')
      await storage.subjects.putMember('open', 'ana', 'comment')
      expect(await storage.subjects.storedRoles('open', 'mod')).toEqual({ defaultRole: 'read', memberRole: 'moderate' })
    })

    it('tells whether a document was ever written', async () => {
      expect(await storage.documents.exists('comments/fresh')).toBe(false)
      await storage.documents.append('comments/fresh', new Uint8Array([0, 0]))
      expect(await storage.documents.exists('comments/fresh')).toBe(true)
      await storage.documents.compact('comments/fresh', (parts) => parts[0] ?? new Uint8Array([0, 0]))
      expect((await storage.documents.load('comments/fresh')).log).toEqual([])
      expect(await storage.documents.exists('comments/fresh')).toBe(true)
    })

    it('remembers the latest token: access always, name and handle when the token has them', async () => {
      expect(await storage.users.get('ana')).toBeNull()
      await storage.users.rememberToken('ana', { name: 'Ana Lopez', handle: 'ana', access: { 'comments/*': 'comment' } })
      expect(await storage.users.get('ana')).toMatchObject({
        id: 'ana',
        name: 'Ana Lopez',
        handle: 'ana',
        profileFromBackend: false,
        access: { 'comments/*': 'comment' },
      })
      await storage.users.rememberToken('ana', { name: undefined, handle: undefined, access: { 'comments/a': 'read' } })
      expect(await storage.users.get('ana')).toMatchObject({ name: 'Ana Lopez', handle: 'ana', access: { 'comments/a': 'read' } })
      await storage.users.rememberToken('ana', { name: 'Ana L.', handle: undefined, access: undefined })
      const latest = await storage.users.get('ana')
      expect(latest).toMatchObject({ name: 'Ana L.', handle: 'ana', access: null })
      expect(latest?.tokenSeenAt).toBeGreaterThan(0)
    })

    it("keeps the backend's profile over token values, and still remembers the claim", async () => {
      await storage.users.rememberToken('ben', { name: 'benny', handle: 'benny', access: undefined })
      const put = await storage.users.putProfile('ben', { name: 'Ben Ode', handle: 'ben' })
      expect(put).toMatchObject({ id: 'ben', name: 'Ben Ode', handle: 'ben', profileFromBackend: true })
      await storage.users.rememberToken('ben', { name: 'benny', handle: 'benny', access: { '*': 'read' } })
      expect(await storage.users.get('ben')).toMatchObject({ name: 'Ben Ode', handle: 'ben', access: { '*': 'read' } })
      await storage.users.putProfile('ben', { name: null, handle: 'b' })
      expect(await storage.users.get('ben')).toMatchObject({ name: null, handle: 'b', access: { '*': 'read' } })
      const backendOnly = await storage.users.putProfile('cyd', { name: 'Cyd', handle: null })
      expect(backendOnly).toMatchObject({ access: null, tokenSeenAt: null })
    })

    it('finds a user by handle, case-insensitively', async () => {
      await storage.users.putProfile('u1', { name: 'Ana', handle: 'AnaL' })
      expect((await storage.users.findByHandle('anal'))?.id).toBe('u1')
      expect((await storage.users.findByHandle('ANAL'))?.id).toBe('u1')
      expect(await storage.users.findByHandle('ana')).toBeNull()
    })

    it('searches handles, names and name words, case-insensitively, in a stable order', async () => {
      await storage.users.putProfile('u_ana', { name: 'Ana Lopez', handle: 'ana' })
      await storage.users.putProfile('u_anabel', { name: 'Anabel Ruiz', handle: 'anabel' })
      await storage.users.putProfile('u_bob', { name: 'Bob Anders', handle: 'bob' })
      await storage.users.putProfile('u_nohandle', { name: 'Annie', handle: null })
      await storage.users.putProfile('u_pct', { name: '100% Ana', handle: 'pct_1' })
      await storage.users.rememberToken('u_zed', { name: 'Zed', handle: undefined, access: undefined })
      const ids = async (query: string, limit = 50, offset = 0) => (await storage.users.search(query, { limit, offset })).map((u) => u.id)
      expect(await ids('an')).toEqual(['u_ana', 'u_anabel', 'u_bob', 'u_pct', 'u_nohandle'])
      expect(await ids('ANA')).toEqual(['u_ana', 'u_anabel', 'u_pct'])
      expect(await ids('lop')).toEqual(['u_ana'])
      expect(await ids('%')).toEqual([])
      expect(await ids('pct_')).toEqual(['u_pct'])
      expect(await ids('pct%')).toEqual([])
      expect(await ids('')).toEqual(['u_ana', 'u_anabel', 'u_bob', 'u_pct', 'u_nohandle', 'u_zed'])
      expect(await ids('', 2, 0)).toEqual(['u_ana', 'u_anabel'])
      expect(await ids('', 2, 2)).toEqual(['u_bob', 'u_pct'])
      expect(await ids('', 2, 6)).toEqual([])
    })

    it('keeps subjects, members and users across a close and reopen', async () => {
      await storage.subjects.put('kept', 'read')
      await storage.subjects.putMember('kept', 'ana', 'moderate')
      await storage.users.rememberToken('ana', { name: 'Ana', handle: 'ana', access: { '*': 'read' } })
      storage = await factory.reopen(storage)
      expect(await storage.subjects.storedRoles('kept', 'ana')).toEqual({ defaultRole: 'read', memberRole: 'moderate' })
      expect(await storage.users.get('ana')).toMatchObject({ name: 'Ana', access: { '*': 'read' } })
    })
  })
}
