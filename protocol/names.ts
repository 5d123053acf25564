/**
 * Document names of the contract: `comments/<subjectId>`, `inbox/<userId>`, `feed/<feedId>`.
 * An id matches {@link ID_PATTERN}.
 */

/** What an id (subject, user, feed, thread, comment) may contain. */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/

export type DocumentKind = 'comments' | 'inbox' | 'feed'

export interface ParsedDocumentName {
  kind: DocumentKind
  id: string
}

const KINDS: ReadonlySet<string> = new Set<DocumentKind>(['comments', 'inbox', 'feed'])

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id)
}

/** Splits a document name into its kind and id; `null` when it is not a contract name. */
export function parseDocumentName(name: string): ParsedDocumentName | null {
  const slash = name.indexOf('/')
  if (slash <= 0) return null
  const kind = name.slice(0, slash)
  const id = name.slice(slash + 1)
  if (!KINDS.has(kind) || !isValidId(id)) return null
  return { kind: kind as DocumentKind, id }
}

/** Longest valid document name: `comments/` and a 128-character id. */
export const MAX_DOCUMENT_NAME_LENGTH = 'comments/'.length + 128

/**
 * A name as errors and log lines may echo it: a client may send a name of megabytes, so one longer
 * than any valid name keeps its first {@link MAX_DOCUMENT_NAME_LENGTH} characters and `…`.
 */
export function echoedName(name: string): string {
  if (name.length <= MAX_DOCUMENT_NAME_LENGTH) return name
  const cut = name.slice(0, MAX_DOCUMENT_NAME_LENGTH)
  // Never end on half a surrogate pair.
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`
}

export function commentsDocumentName(subjectId: string): string {
  return `comments/${subjectId}`
}

export function inboxDocumentName(userId: string): string {
  return `inbox/${userId}`
}

export function feedDocumentName(feedId: string): string {
  return `feed/${feedId}`
}

/** The personal feed of subjects a user follows. */
export function userFeedId(userId: string): string {
  return `user:${userId}`
}
