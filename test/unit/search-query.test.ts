/** core/search: the query parser, the engine compilers and snippets, in process. */
import { describe, expect, it } from 'vitest'
import { toFts5, toTsquery } from '../../core/search/compile.ts'
import { MAX_PHRASE_WORDS, MAX_QUERY_CHARS, MAX_QUERY_TERMS, parseQuery, tokenize, type SearchQuery } from '../../core/search/query.ts'
import { buildSnippet, SNIPPET_WORDS } from '../../core/search/snippet.ts'

function parsed(input: string): SearchQuery {
  const result = parseQuery(input)
  if (!result.ok) throw new Error(result.error.message)
  return result.value
}

describe('tokenize', () => {
  it('lower-cases, folds accents and splits on everything but letters and digits', () => {
    expect(tokenize('Café-au-LAIT, naïve  42x!')).toEqual(['cafe', 'au', 'lait', 'naive', '42x'])
    expect(tokenize('日本語 テキスト')).toEqual(['日本語', 'テキスト'])
    expect(tokenize('🙂 -- "" ** ()')).toEqual([])
  })
})

describe('parseQuery', () => {
  it('reads words, quoted phrases and prefixes', () => {
    expect(parsed('Quick "brown fox" jum*')).toEqual({
      terms: [
        { kind: 'word', token: 'quick' },
        { kind: 'phrase', tokens: ['brown', 'fox'] },
        { kind: 'prefix', token: 'jum' },
      ],
    })
    expect(parsed('"single"')).toEqual({ terms: [{ kind: 'word', token: 'single' }] })
    expect(parsed('"unclosed phrase here')).toEqual({ terms: [{ kind: 'phrase', tokens: ['unclosed', 'phrase', 'here'] }] })
    expect(parsed('a a a')).toEqual({ terms: [{ kind: 'word', token: 'a' }] })
  })

  it('turns operators of the engines into separators: nothing reaches FTS5 or tsquery raw', () => {
    for (const input of ['"', '*', '**', '-', '()', '""', ':', "'", '|', '&', '!']) expect(parsed(input)).toEqual({ terms: [] })
    expect(parsed('NEAR(a b)')).toEqual({
      terms: [
        { kind: 'word', token: 'near' },
        { kind: 'word', token: 'a' },
        { kind: 'word', token: 'b' },
      ],
    })
    expect(parsed('-word col:value')).toEqual({
      terms: [
        { kind: 'word', token: 'word' },
        { kind: 'word', token: 'col' },
        { kind: 'word', token: 'value' },
      ],
    })
    expect(parsed("it's")).toEqual({
      terms: [
        { kind: 'word', token: 'it' },
        { kind: 'word', token: 's' },
      ],
    })
  })

  it('refuses what is too long, too many terms, long phrases and one-letter prefixes, with a message', () => {
    expect(parseQuery('x'.repeat(MAX_QUERY_CHARS + 1))).toMatchObject({ ok: false, error: { message: expect.stringContaining(`${MAX_QUERY_CHARS}`) } })
    expect(parseQuery(Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`).join(' ')).ok).toBe(false)
    expect(parseQuery(`"${Array.from({ length: MAX_PHRASE_WORDS + 1 }, (_, i) => `w${i}`).join(' ')}"`).ok).toBe(false)
    expect(parseQuery('a*')).toMatchObject({ ok: false, error: { message: expect.stringContaining('prefix') } })
    expect(parseQuery('ab*').ok).toBe(true)
  })
})

describe('compilers', () => {
  it('quote every token for FTS5 and tsquery; no terms compile to null', () => {
    const query = parsed('quick "brown fox" jum*')
    expect(toFts5(query)).toBe('"quick" AND "brown fox" AND "jum"*')
    expect(toTsquery(query)).toBe("'quick' & ('brown' <-> 'fox') & 'jum':*")
    expect(toFts5(parsed('"'))).toBeNull()
    expect(toTsquery(parsed('*'))).toBeNull()
  })
})

describe('buildSnippet', () => {
  it('marks matching words and escapes HTML', () => {
    expect(buildSnippet('Use <b>bold</b> & Café', parsed('bold cafe'))).toBe('Use &lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; <mark>Café</mark>')
    expect(buildSnippet('the brown fox and a brown dog', parsed('"brown fox"'))).toBe('the <mark>brown</mark> <mark>fox</mark> and a brown dog')
    expect(buildSnippet('jumping jumped', parsed('jump*'))).toBe('<mark>jumping</mark> <mark>jumped</mark>')
  })

  it('shows a window around the first match in a long body', () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`)
    words[60] = 'needle'
    const snippet = buildSnippet(words.join(' '), parsed('needle'))
    expect(snippet.startsWith('…w56 w57 w58 w59 <mark>needle</mark>')).toBe(true)
    expect(snippet.endsWith('…')).toBe(true)
    expect(snippet.split(' ')).toHaveLength(SNIPPET_WORDS)
  })
})
