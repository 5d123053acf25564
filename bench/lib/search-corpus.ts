/**
 * A deterministic corpus for the search benchmark: comments documents written straight into
 * storage (as one Yjs update each), with words from a synthetic vocabulary drawn with a skew (a
 * few common words, a long tail), and queries that are known to match: one word, three words of
 * one comment, and a three-letter prefix.
 */
import * as Y from 'yjs'
import { commentsDocumentName, createThread, reply } from '../../protocol/index.ts'
import type { Storage } from '../../core/storage/types.ts'

/** Distinct words in the vocabulary. */
export const VOCABULARY_WORDS = 5_000

/** Comments per thread. */
const THREAD_COMMENTS = 10

/** Words per comment: from this many, plus up to {@link EXTRA_WORDS}. */
const MIN_WORDS = 8
const EXTRA_WORDS = 24

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qui', 'bel', 'dor', 'fen', 'gar', 'hul', 'jin', 'mor', 'nax', 'tek']

/** A small seeded PRNG (mulberry32): the same corpus every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function vocabulary(): string[] {
  const words: string[] = []
  for (let i = 0; words.length < VOCABULARY_WORDS; i++) {
    let n = i
    let word = ''
    do {
      word += SYLLABLES[n % SYLLABLES.length]
      n = Math.floor(n / SYLLABLES.length)
    } while (n > 0)
    if (word.length >= 4) words.push(word)
  }
  return words
}

export interface Corpus {
  /** Texts of every comment written. */
  texts: string[]
  comments: number
  subjects: number
}

/** Writes `comments` comments over `subjects` subjects into storage, one update per subject. */
export async function writeCorpus(storage: Storage, subjects: number, comments: number, seed = 1): Promise<Corpus> {
  const words = vocabulary()
  const next = random(seed)
  // Cubing skews the draw toward the first words: a few common words and a long tail.
  const word = () => words[Math.floor(next() ** 3 * words.length)] ?? 'none'
  const texts: string[] = []
  const perSubject = Math.ceil(comments / subjects)
  for (let s = 0; s < subjects && texts.length < comments; s++) {
    const doc = new Y.Doc()
    const ctx = { doc, userId: `author-${s % 50}` }
    let threadId = ''
    for (let c = 0; c < perSubject && texts.length < comments; c++) {
      const text = Array.from({ length: MIN_WORDS + Math.floor(next() * EXTRA_WORDS) }, word).join(' ')
      texts.push(text)
      if (c % THREAD_COMMENTS === 0) threadId = createThread(ctx, text).threadId
      else reply(ctx, threadId, text)
    }
    await storage.documents.append(commentsDocumentName(`bench-search-${s}`), Y.encodeStateAsUpdate(doc))
    doc.destroy()
  }
  return { texts, comments: texts.length, subjects }
}

export type QueryKind = 'oneWord' | 'threeWords' | 'prefix'

/** A query of the kind that matches at least the comment it was drawn from. */
export function queryFrom(kind: QueryKind, text: string, next: () => number): string {
  const words = text.split(' ')
  const pick = () => words[Math.floor(next() * words.length)] ?? ''
  switch (kind) {
    case 'oneWord':
      return pick()
    case 'threeWords':
      return [pick(), pick(), pick()].join(' ')
    case 'prefix':
      return `${pick().slice(0, 3)}*`
  }
}
