/**
 * The storage contract for subjects, membership and the user directory; run by every backend
 * through `storageContract` (contract.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DirectoryCursor, Storage } from '../../core/storage/types.ts'
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

    it('reads a batch of users at once: the same records as one by one, none for unknown ids', async () => {
      expect((await storage.users.getMany([])).size).toBe(0)
      await storage.users.rememberToken('ana', { name: 'Ana', handle: 'ana', access: { '*': 'comment' } })
      await storage.users.putProfile('ben', { name: 'Ben', handle: 'ben' })
      const ids = ['ana', 'ben', 'nobody', "o'hara", 'ana']
      const many = await storage.users.getMany(ids)
      expect([...many.keys()].sort()).toEqual(['ana', 'ben'])
      expect(many.get('ana')).toEqual(await storage.users.get('ana'))
      expect(many.get('ben')).toEqual(await storage.users.get('ben'))
      const large = await storage.users.getMany(Array.from({ length: 2_000 }, (_, i) => (i === 1_999 ? 'ben' : `u${i}`)))
      expect([...large.keys()]).toEqual(['ben'])
    })

    it("keeps the backend's profile over token values, and still remembers the claim", async () => {
      await storage.users.rememberToken('ben', { name: 'benny', handle: 'benny', access: undefined })
      const put = await storage.users.putProfile('ben', { name: 'Ben Ode', handle: 'ben' })
      expect(put).toMatchObject({ user: { id: 'ben', name: 'Ben Ode', handle: 'ben', profileFromBackend: true }, displaced: [] })
      await storage.users.rememberToken('ben', { name: 'benny', handle: 'benny', access: { '*': 'read' } })
      expect(await storage.users.get('ben')).toMatchObject({ name: 'Ben Ode', handle: 'ben', access: { '*': 'read' } })
      await storage.users.putProfile('ben', { name: null, handle: 'b' })
      expect(await storage.users.get('ben')).toMatchObject({ name: null, handle: 'b', access: { '*': 'read' } })
      const backendOnly = await storage.users.putProfile('cyd', { name: 'Cyd', handle: null })
      expect(backendOnly.user).toMatchObject({ access: null, tokenSeenAt: null })
    })

    it('finds a user by handle, case-insensitively', async () => {
      await storage.users.putProfile('u1', { name: 'Ana', handle: 'AnaL' })
      expect((await storage.users.findByHandle('anal'))?.id).toBe('u1')
      expect((await storage.users.findByHandle('ANAL'))?.id).toBe('u1')
      expect(await storage.users.findByHandle('ana')).toBeNull()
    })

    /** Every page of a search, until `next` is null: the users of each page in order. */
    const allPages = async (query: string, limit: number) => {
      const pages: string[][] = []
      let after: DirectoryCursor | null = null
      for (let round = 0; round < 100; round++) {
        const page = await storage.users.search(query, { limit, after })
        pages.push(page.users.map((u) => u.id))
        if (page.next === null) return pages
        after = page.next
      }
      throw new Error('the search never ended')
    }
    const ids = async (query: string, limit = 50) => (await storage.users.search(query, { limit, after: null })).users.map((u) => u.id)

    it('searches handles, names and name words by prefix, case-insensitively, in key order', async () => {
      await storage.users.putProfile('u_ana', { name: 'Ana Lopez', handle: 'ana' })
      await storage.users.putProfile('u_anabel', { name: 'Anabel Ruiz', handle: 'anabel' })
      await storage.users.putProfile('u_bob', { name: 'Bob Anders', handle: 'bob' })
      await storage.users.putProfile('u_nohandle', { name: 'Annie', handle: null })
      await storage.users.putProfile('u_pct', { name: '100% Ana', handle: 'pct_1' })
      await storage.users.rememberToken('u_zed', { name: 'Zed', handle: undefined, access: undefined })
      // Keys in order: "ana" (u_ana, u_pct's second word), "ana lopez", "anabel", "anabel ruiz", "anders", "annie".
      expect(await ids('an')).toEqual(['u_ana', 'u_pct', 'u_anabel', 'u_bob', 'u_nohandle'])
      expect(await ids('ANA')).toEqual(['u_ana', 'u_pct', 'u_anabel'])
      expect(await ids('lop')).toEqual(['u_ana'])
      expect(await ids('ana l')).toEqual(['u_ana'])
      expect(await ids('%')).toEqual([])
      expect(await ids('pct_')).toEqual(['u_pct'])
      expect(await ids('pct%')).toEqual([])
      expect(await ids('x')).toEqual([])
      expect(await ids('')).toEqual(['u_pct', 'u_ana', 'u_anabel', 'u_bob', 'u_nohandle', 'u_zed'])
      // A name change moves the keys.
      await storage.users.putProfile('u_bob', { name: 'Robert', handle: 'bob' })
      expect(await ids('an')).toEqual(['u_ana', 'u_pct', 'u_anabel', 'u_nohandle'])
      expect(await ids('rob')).toEqual(['u_bob'])
      await storage.users.rememberToken('u_zed', { name: 'Zed Andover', handle: 'zee', access: undefined })
      expect(await ids('and')).toEqual(['u_zed'])
      expect(await ids('zee')).toEqual(['u_zed'])
    })

    it('pages by the last key seen (no offset): every match once per page, in order, stable under inserts', async () => {
      for (let i = 0; i < 30; i++)
        await storage.users.putProfile(`p${String(i).padStart(2, '0')}`, { name: `Pat Number${i}`, handle: `pat${String(i).padStart(2, '0')}` })
      const whole = await ids('pat', 200)
      expect(whole).toHaveLength(30)
      const pages = await allPages('pat', 7)
      for (const page of pages) expect(new Set(page).size).toBe(page.length)
      const firstSeen = [...new Set(pages.flat())]
      expect(firstSeen).toEqual(whole)
      // Keys "pat00".."pat29" and "pat numberN" for each: 60 rows, pages of 7 rows.
      expect(pages).toHaveLength(Math.ceil(60 / 7))
      // A user added before the cursor neither repeats nor shifts what comes after it.
      const first = await storage.users.search('pat', { limit: 10, after: null })
      const secondBefore = await storage.users.search('pat', { limit: 10, after: first.next })
      await storage.users.putProfile('p_early', { name: null, handle: 'pat' }) // key "pat": before every key seen
      const second = await storage.users.search('pat', { limit: 10, after: first.next })
      expect(second).toEqual(secondBefore)
      expect(second.users).toHaveLength(10)
      expect((await ids('pat', 1))[0]).toBe('p_early')
    })

    it('matches any script and stops at the prefix, whatever its last character', async () => {
      await storage.users.putProfile('zoe', { name: 'Zoë Ölund', handle: 'zoë' })
      await storage.users.putProfile('ming', { name: '小明 Wang', handle: '小明' })
      await storage.users.putProfile('astral', { name: '𝒜lpha', handle: '𝒜' })
      await storage.users.putProfile('zoz', { name: null, handle: 'zoz' })
      expect(await ids('ZOË')).toEqual(['zoe'])
      expect(await ids('zo')).toEqual(['zoz', 'zoe']) // code point order: "z" before "ë"
      expect(await ids('öl')).toEqual(['zoe'])
      expect(await ids('小')).toEqual(['ming'])
      expect(await ids('wang')).toEqual(['ming'])
      expect(await ids('𝒜')).toEqual(['astral'])
      expect(await ids('𝒜l')).toEqual(['astral'])
    })

    it('gives a handle to one user: the backend’s directory wins, and a token never takes a held handle', async () => {
      // The backend sets bob; mallory's token claims "Bob": refused, bob keeps it.
      await storage.users.putProfile('bob', { name: 'Bob', handle: 'bob' })
      expect(await storage.users.rememberToken('mallory', { name: 'Mallory', handle: 'Bob', access: undefined })).toEqual({ handleRefused: true })
      expect((await storage.users.findByHandle('BOB'))?.id).toBe('bob')
      expect(await storage.users.get('mallory')).toMatchObject({ name: 'Mallory', handle: null })
      expect(await ids('bob')).toEqual(['bob'])
      // Between tokens, the first claim keeps the handle until its holder lets it go.
      expect(await storage.users.rememberToken('neo', { name: undefined, handle: 'neo', access: undefined })).toEqual({ handleRefused: false })
      expect(await storage.users.rememberToken('trinity', { name: undefined, handle: 'trin', access: undefined })).toEqual({ handleRefused: false })
      expect(await storage.users.rememberToken('trinity', { name: undefined, handle: 'NEO', access: undefined })).toEqual({ handleRefused: true })
      expect(await storage.users.get('trinity')).toMatchObject({ handle: 'trin' })
      expect((await storage.users.findByHandle('neo'))?.id).toBe('neo')
      await storage.users.rememberToken('neo', { name: undefined, handle: 'the-one', access: undefined })
      expect(await storage.users.rememberToken('trinity', { name: undefined, handle: 'NEO', access: undefined })).toEqual({ handleRefused: false })
      expect((await storage.users.findByHandle('neo'))?.id).toBe('trinity')
      // The backend gives a token-held handle to someone else: the token holder loses it.
      await storage.users.rememberToken('mal', { name: 'Carl Mal', handle: 'carl', access: undefined })
      const put = await storage.users.putProfile('carl', { name: 'Carl', handle: 'Carl' })
      expect(put.displaced).toEqual(['mal'])
      expect((await storage.users.findByHandle('carl'))?.id).toBe('carl')
      expect(await storage.users.get('mal')).toMatchObject({ name: 'Carl Mal', handle: null })
      expect(await ids('carl')).toEqual(['carl', 'mal']) // "carl" (carl's handle and name), then "carl mal" (mal's name)
      expect(await storage.users.rememberToken('mal', { name: 'Carl Mal', handle: 'carl', access: undefined })).toEqual({ handleRefused: true })
      // The backend moving a handle between two of its own profiles: its latest word wins.
      await storage.users.putProfile('x1', { name: null, handle: 'dup' })
      expect((await storage.users.putProfile('x2', { name: null, handle: 'DUP' })).displaced).toEqual(['x1'])
      expect((await storage.users.findByHandle('dup'))?.id).toBe('x2')
      expect(await ids('dup')).toEqual(['x2'])
      // A profile set by the backend ignores its token's handle: no claim, nothing refused.
      expect(await storage.users.rememberToken('bob', { name: undefined, handle: 'neo', access: undefined })).toEqual({ handleRefused: false })
      expect(await storage.users.get('bob')).toMatchObject({ handle: 'bob' })
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
