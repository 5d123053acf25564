/** The search index part of the storage contract (issue 20), run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseQuery, tokenize, type SearchQuery } from '../../core/search/query.ts'
import { SEARCH_RANKED_MATCHES } from '../../core/storage/search-types.ts'
import type { SearchEntry, SearchHit, Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

function entry(subjectId: string, commentId: string, text: string, createdAt = 1): SearchEntry {
  return { subjectId, threadId: `t-${commentId}`, commentId, authorId: 'ana', createdAt, text, tokens: tokenize(text) }
}

function q(input: string): SearchQuery {
  const parsed = parseQuery(input)
  if (!parsed.ok) throw new Error(parsed.error.message)
  return parsed.value
}

export function searchContract(name: string, factory: BackendFactory): void {
  describe(`search index: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    const ids = async (input: string, subjectId: string | null = null) =>
      (await storage.search.query(q(input), { subjectId, limit: 50, after: null })).map((hit) => hit.commentId).sort()

    it('ANDs words, matches phrases in order and prefixes, folding case and accents', async () => {
      await storage.search.apply(
        [
          entry('s1', 'c1', 'The quick brown fox jumps'),
          entry('s1', 'c2', 'A brown quick dog'),
          entry('s2', 'c3', 'Café au lait, Quickly!'),
          entry('s2', 'c4', 'nothing to see'),
        ],
        [],
      )
      expect(await ids('quick brown')).toEqual(['c1', 'c2'])
      expect(await ids('"quick brown"')).toEqual(['c1'])
      expect(await ids('quick*')).toEqual(['c1', 'c2', 'c3'])
      expect(await ids('CAFE')).toEqual(['c3'])
      expect(await ids('quick*', 's2')).toEqual(['c3'])
      expect(await ids('brown cat')).toEqual([])
      expect(await ids('')).toEqual([])
      // Words never match the subject (SQLite indexes it as its id in hex: "s1" is 7331).
      expect(await ids('7331')).toEqual([])
      expect(await ids('73*')).toEqual([])
      const [hit] = await storage.search.query(q('lait'), { subjectId: null, limit: 5, after: null })
      expect(hit).toMatchObject({ subjectId: 's2', threadId: 't-c3', commentId: 'c3', authorId: 'ana', createdAt: 1, text: 'Café au lait, Quickly!' })
    })

    it('rebuilds a subject whose rows were the newest: the freed row ids go to the new entries, and only their words match', async () => {
      await storage.search.apply([entry('s1', 'c1', 'alpha words'), entry('s1', 'c2', 'delta words')], [])
      await storage.search.replaceSubject('s1', [entry('s1', 'c2', 'beta words'), entry('s1', 'c3', 'gamma words')])
      expect(await ids('alpha')).toEqual([])
      expect(await ids('delta')).toEqual([])
      expect(await ids('beta')).toEqual(['c2'])
      expect(await ids('gamma')).toEqual(['c3'])
      await storage.search.apply([entry('s1', 'c3', 'omega words')], [{ subjectId: 's1', commentId: 'c2' }])
      expect(await ids('beta')).toEqual([])
      expect(await ids('gamma')).toEqual([])
      expect(await ids('omega')).toEqual(['c3'])
      expect((await storage.search.stats()).entries).toBe(1)
    })

    it('replaces an entry, removes one, rebuilds a subject, and keeps it across a reopen', async () => {
      await storage.search.apply([entry('s1', 'c1', 'old words'), entry('s1', 'c2', 'keep me'), entry('s2', 'c9', 'other subject')], [])
      await storage.search.apply([entry('s1', 'c1', 'new words')], [{ subjectId: 's1', commentId: 'c2' }])
      expect(await ids('old')).toEqual([])
      expect(await ids('words')).toEqual(['c1'])
      expect(await ids('keep')).toEqual([])
      await storage.search.replaceSubject('s1', [entry('s1', 'c5', 'rebuilt words')])
      storage = await factory.reopen(storage)
      expect(await ids('words')).toEqual(['c5'])
      expect(await ids('subject')).toEqual(['c9'])
      expect((await storage.search.entries('s1')).map((e) => e.commentId)).toEqual(['c5'])
      expect((await storage.search.stats()).entries).toBe(2)
    })

    it('pages by cursor, best first, every match once', async () => {
      const entries = Array.from({ length: 23 }, (_, i) => entry(`s${i % 3}`, `c${String(i).padStart(2, '0')}`, `alpha ${'beta '.repeat(i % 5)}gamma${i}`))
      await storage.search.apply(entries, [])
      const seen: SearchHit[] = []
      let after: SearchHit['cursor'] | null = null
      for (;;) {
        const page: SearchHit[] = await storage.search.query(q('alpha'), { subjectId: null, limit: 5, after })
        seen.push(...page)
        const last = page.at(-1)
        if (page.length < 5 || !last) break
        after = last.cursor
      }
      expect(seen.map((h) => h.commentId).sort()).toEqual(entries.map((e) => e.commentId).sort())
      expect(await ids('beta')).toHaveLength(18)
    })

    it(`ranks only the newest ${SEARCH_RANKED_MATCHES} matches of a query`, async () => {
      // The oldest ten would rank best (the word twice in a short body), but are past the newest matches.
      const old = Array.from({ length: 10 }, (_, i) => entry('s1', `old${i}`, 'zebu zebu'))
      const recent = Array.from({ length: SEARCH_RANKED_MATCHES }, (_, i) => entry('s1', `new${i}`, `zebu and some other words ${i}`))
      await storage.search.apply(old, [])
      await storage.search.apply(recent, [])
      const page = await storage.search.query(q('zebu'), { subjectId: 's1', limit: 20, after: null })
      expect(page).toHaveLength(20)
      expect(page.filter((hit) => hit.commentId.startsWith('old'))).toEqual([])
      expect(await ids('"zebu zebu"')).toEqual(old.map((e) => e.commentId).sort())
    })

    it('keeps index marks and lists the comments documents written past theirs', async () => {
      expect(await storage.search.mark('comments/a')).toBeNull()
      for (const name of ['comments/a', 'comments/b', 'comments/c', 'inbox/ana']) await storage.documents.append(name, new Uint8Array([0, 0]))
      await storage.documents.append('comments/b', new Uint8Array([0, 0]))
      await storage.search.setMark('comments/a', 1)
      await storage.search.setMark('comments/b', 1)
      expect(await storage.search.mark('comments/a')).toBe(1)
      expect(await storage.search.documentsToReindex()).toEqual(['comments/b', 'comments/c'])
      expect(await storage.search.commentDocuments()).toEqual(['comments/a', 'comments/b', 'comments/c'])
    })
  })
}
