/**
 * A parsed query in each engine's syntax. Tokens hold only letters and digits (query.ts), so
 * quoting them is enough: nothing a user typed can become an operator.
 */
import type { SearchQuery } from './query.ts'

/** FTS5 MATCH syntax: `"word" AND "a b" AND "pre"*`; null when the query has no terms. */
export function toFts5(query: SearchQuery): string | null {
  if (query.terms.length === 0) return null
  return query.terms
    .map((term) => {
      switch (term.kind) {
        case 'word':
          return `"${term.token}"`
        case 'prefix':
          return `"${term.token}"*`
        case 'phrase':
          return `"${term.tokens.join(' ')}"`
      }
    })
    .join(' AND ')
}

/** PostgreSQL `to_tsquery('simple', …)` syntax: `'word' & ('a' <-> 'b') & 'pre':*`; null when no terms. */
export function toTsquery(query: SearchQuery): string | null {
  if (query.terms.length === 0) return null
  return query.terms
    .map((term) => {
      switch (term.kind) {
        case 'word':
          return `'${term.token}'`
        case 'prefix':
          return `'${term.token}':*`
        case 'phrase':
          return `(${term.tokens.map((token) => `'${token}'`).join(' <-> ')})`
      }
    })
    .join(' & ')
}

/** The text PostgreSQL indexes: the normalized tokens, space-separated (same words as the query's). */
export function tsvectorText(tokens: readonly string[]): string {
  return tokens.join(' ')
}
