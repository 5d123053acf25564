/**
 * The snippet of a search result: a window of the comment's words around the first match, with
 * each matching word marked. Computed here from the stored body, the same for every backend.
 *
 * The snippet is HTML-safe text: `&`, `<`, `>`, `"` and `'` are escaped, and every matching word
 * is wrapped in {@link MARK_START} and {@link MARK_END} (docs/PROTOCOL.md, "Search").
 */
import { tokenize, type SearchQuery } from './query.ts'

/** Opens a matched word in a snippet. */
export const MARK_START = '<mark>'
/** Closes a matched word in a snippet. */
export const MARK_END = '</mark>'

/** Words a snippet shows at most. */
export const SNIPPET_WORDS = 24

/** Words shown before the first match. */
export const SNIPPET_LEAD_WORDS = 4

/** Shown where words were cut off. */
export const ELLIPSIS = '…'

/** A run of letters with their marks (so `é` written as `e` + accent stays one word). */
const RAW_WORD = /[\p{L}\p{N}\p{Co}\p{M}]+/gu

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch)
}

interface Word {
  start: number
  end: number
  token: string
}

function words(text: string): Word[] {
  const out: Word[] = []
  for (const match of text.matchAll(RAW_WORD)) {
    const token = tokenize(match[0]).join('')
    if (token !== '') out.push({ start: match.index, end: match.index + match[0].length, token })
  }
  return out
}

/** Indexes of the words a term of the query matches. */
function matchedWords(list: Word[], query: SearchQuery): Set<number> {
  const marked = new Set<number>()
  for (const term of query.terms) {
    if (term.kind === 'phrase') {
      for (let i = 0; i + term.tokens.length <= list.length; i++) {
        if (term.tokens.every((token, k) => list[i + k]?.token === token)) for (let k = 0; k < term.tokens.length; k++) marked.add(i + k)
      }
      continue
    }
    list.forEach((word, i) => {
      if (term.kind === 'word' ? word.token === term.token : word.token.startsWith(term.token)) marked.add(i)
    })
  }
  return marked
}

/** The marked snippet of `text` for `query`. */
export function buildSnippet(text: string, query: SearchQuery): string {
  const list = words(text)
  if (list.length === 0) return escapeHtml(text.slice(0, SNIPPET_WORDS * 8))
  const marked = matchedWords(list, query)
  const first = Math.min(...marked, list.length)
  const from = first >= list.length ? 0 : Math.max(0, first - SNIPPET_LEAD_WORDS)
  const to = Math.min(list.length, from + SNIPPET_WORDS)
  const startAt = from === 0 ? 0 : (list[from]?.start ?? 0)
  const endAt = to === list.length ? text.length : (list[to - 1]?.end ?? text.length)
  let out = from === 0 ? '' : ELLIPSIS
  let cursor = startAt
  for (let i = from; i < to; i++) {
    const word = list[i]
    if (!word) continue
    out += escapeHtml(text.slice(cursor, word.start))
    const shown = escapeHtml(text.slice(word.start, word.end))
    out += marked.has(i) ? `${MARK_START}${shown}${MARK_END}` : shown
    cursor = word.end
  }
  out += escapeHtml(text.slice(cursor, endAt))
  if (to < list.length) out += ELLIPSIS
  return out.replace(/\s+/gu, ' ').trim()
}
