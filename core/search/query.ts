/**
 * The search query language, parsed by our own small parser so that user input never reaches an
 * engine's syntax raw: words are ANDed, `"quoted phrases"` match words in sequence, and `prefix*`
 * matches words that start with the prefix. Everything that is not a letter or a digit separates
 * words (so `-`, `(`, `:` and a stray `"` or `*` are not operators). Terms hold only normalized
 * tokens (see {@link tokenize}); storage compiles them into FTS5 or tsquery syntax (compile.ts).
 */
import { err, ok, type Result } from '../../protocol/index.ts'

/** Longest query accepted, in characters; a longer one is refused. */
export const MAX_QUERY_CHARS = 500

/** Most terms (words, phrases and prefixes) a query may have. */
export const MAX_QUERY_TERMS = 16

/** Most words a quoted phrase may have. */
export const MAX_PHRASE_WORDS = 8

/** Shortest prefix before `*`, in characters (a shorter one would match almost everything). */
export const MIN_PREFIX_CHARS = 2

/** Longest token kept; a longer run of letters is cut (nobody searches for more). */
export const MAX_TOKEN_CHARS = 64

export type SearchTerm = { kind: 'word'; token: string } | { kind: 'prefix'; token: string } | { kind: 'phrase'; tokens: string[] }

export interface SearchQuery {
  /** Every term must match. Empty: the query has no words, and matches nothing. */
  terms: SearchTerm[]
}

/** Letters (with their combining marks, folded away below), digits, private-use characters. */
const TOKEN = /[\p{L}\p{N}\p{Co}]+/gu

/**
 * Lower-cased words with diacritics removed (`Café` → `cafe`), as both backends index them.
 * Characters outside letters and digits separate words.
 */
export function tokenize(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
  return (folded.match(TOKEN) ?? []).map((token) => token.slice(0, MAX_TOKEN_CHARS))
}

/** A refused query: the message says why (answered 400 `invalid_request`). */
export interface QueryError {
  message: string
}

/** Splits the raw query into quoted and unquoted parts; an unclosed quote runs to the end. */
function segments(input: string): Array<{ quoted: boolean; text: string }> {
  const parts = input.split('"')
  return parts.map((text, index) => ({ quoted: index % 2 === 1, text }))
}

function wordTerms(text: string): Result<SearchTerm[], QueryError> {
  const terms: SearchTerm[] = []
  // A `*` right after a word makes it a prefix; anywhere else it separates.
  for (const chunk of text.split(/\s+/u)) {
    const pieces = chunk.split('*')
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? ''
      const tokens = tokenize(piece)
      const starred = i < pieces.length - 1
      tokens.forEach((token, at) => {
        if (starred && at === tokens.length - 1) terms.push({ kind: 'prefix', token })
        else terms.push({ kind: 'word', token })
      })
    }
  }
  for (const term of terms) {
    if (term.kind === 'prefix' && [...term.token].length < MIN_PREFIX_CHARS) {
      return err({ message: `a prefix needs at least ${MIN_PREFIX_CHARS} letters before "*" ("${term.token}*")` })
    }
  }
  return ok(terms)
}

/** Parses a user's query; an empty or word-less query is a query with no terms (no results). */
export function parseQuery(input: string): Result<SearchQuery, QueryError> {
  if (input.length > MAX_QUERY_CHARS) return err({ message: `the query is longer than ${MAX_QUERY_CHARS} characters` })
  const terms: SearchTerm[] = []
  for (const segment of segments(input)) {
    if (segment.quoted) {
      const tokens = tokenize(segment.text)
      if (tokens.length > MAX_PHRASE_WORDS) return err({ message: `a quoted phrase may have at most ${MAX_PHRASE_WORDS} words` })
      const first = tokens[0]
      if (tokens.length === 1 && first !== undefined) terms.push({ kind: 'word', token: first })
      else if (tokens.length > 1) terms.push({ kind: 'phrase', tokens })
      continue
    }
    const words = wordTerms(segment.text)
    if (!words.ok) return words
    terms.push(...words.value)
  }
  if (terms.length > MAX_QUERY_TERMS) return err({ message: `the query has more than ${MAX_QUERY_TERMS} words, phrases and prefixes` })
  return ok({ terms: dedupe(terms) })
}

/** The same term twice changes nothing: kept once, in first order. */
function dedupe(terms: SearchTerm[]): SearchTerm[] {
  const seen = new Set<string>()
  return terms.filter((term) => {
    const key = term.kind === 'phrase' ? `phrase:${term.tokens.join(' ')}` : `${term.kind}:${term.token}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
