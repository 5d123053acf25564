/**
 * Links to a notification's subject in the integrator's app (`PARLEY_APP_URL`): a template whose
 * `{subjectId}`, `{threadId}`, `{commentId}` and `{notificationId}` are replaced with the
 * notification's values, URL-encoded (a missing thread or comment gives an empty string). Used by
 * the inbox document, the notification REST routes, and later push, email and webhooks.
 */
import { err, ok, type Result } from '../../protocol/index.ts'

/** The placeholders a template may hold. */
export const APP_URL_PLACEHOLDERS = ['subjectId', 'threadId', 'commentId', 'notificationId'] as const

export interface UrlFields {
  id: string
  subjectId: string
  threadId: string | null
  commentId: string | null
}

/** The link of one notification. */
export function notificationUrl(template: string, n: UrlFields): string {
  const values: Record<string, string> = { subjectId: n.subjectId, threadId: n.threadId ?? '', commentId: n.commentId ?? '', notificationId: n.id }
  return template.replace(/\{(subjectId|threadId|commentId|notificationId)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''))
}

/** Checks a template: an absolute http(s) URL once filled in, with no unknown `{placeholder}`. */
export function checkAppUrl(template: string): Result<string, string> {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '').filter((name) => !(APP_URL_PLACEHOLDERS as readonly string[]).includes(name))
  if (unknown.length > 0) return err(`unknown placeholder {${unknown[0]}} (use ${APP_URL_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`)
  let filled: URL
  try {
    filled = new URL(notificationUrl(template, { id: 'n', subjectId: 's', threadId: 't', commentId: 'c' }))
  } catch {
    return err('must be an absolute URL, e.g. https://app.example.com/s/{subjectId}?thread={threadId}#{commentId}')
  }
  if (filled.protocol !== 'https:' && filled.protocol !== 'http:') return err('must start with http:// or https://')
  return ok(template)
}
