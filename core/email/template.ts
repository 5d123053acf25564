/**
 * Email bodies (contract additions "Email"): one email per digest window, plain text and HTML,
 * from notifications. Every piece of user text (names, previews, subject ids) is escaped in the
 * HTML part; links come from `PARLEY_APP_URL` and are only http(s).
 */
import type { NotificationRecord } from '../storage/types.ts'
import { actorsPhrase } from '../delivery/message.ts'

/** Longest preview quoted in an email, in characters. */
export const EMAIL_PREVIEW_CHARS = 280

const DOING: Record<string, string> = {
  mention: 'mentioned you',
  reply: 'replied',
  thread: 'started a thread',
  comment: 'commented',
  reaction: 'reacted to your comment',
  moderation: 'moderated your comment',
}

export interface EmailItem {
  notification: NotificationRecord
  /** Display names of the actors, most recent first. */
  names: readonly string[]
  /** The notification's link (app URL template), if any. */
  url: string | undefined
}

export interface EmailContent {
  subject: string
  text: string
  html: string
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function safeUrl(url: string | undefined): string | undefined {
  return url !== undefined && /^https?:\/\//i.test(url) ? url : undefined
}

function line(item: EmailItem): string {
  return `${actorsPhrase(item.names, item.notification.actors.length)} ${DOING[item.notification.kind] ?? 'did something'}`
}

function preview(item: EmailItem): string {
  const text = item.notification.preview
  return text.length > EMAIL_PREVIEW_CHARS ? `${text.slice(0, EMAIL_PREVIEW_CHARS - 1)}…` : text
}

/**
 * The email for the notifications of one window (one item: that notification; more: a digest).
 * With `unsubscribeUrl`, both parts end with a link to stop these emails (a page that confirms
 * with a one-click POST).
 */
export function emailContent(items: readonly EmailItem[], options: { unsubscribeUrl?: string | undefined } = {}): EmailContent {
  const [first] = items
  if (!first) throw new Error('an email needs at least one notification')
  const subject =
    items.length === 1 ? `${line(first)} in ${first.notification.subjectId}` : `${items.length} new notifications in ${first.notification.subjectId}`
  const stop = safeUrl(options.unsubscribeUrl)
  const footer = stop ? `\n\n--\nStop these emails: ${stop}` : ''
  const text = items.map((item) => [line(item), preview(item), safeUrl(item.url)].filter(Boolean).join('\n')).join('\n\n') + footer
  const htmlFooter = stop ? `\n<hr>\n<p><small><a href="${escapeHtml(stop)}">Stop these emails</a></small></p>` : ''
  const html = items
    .map((item) => {
      const url = safeUrl(item.url)
      const heading = escapeHtml(line(item))
      const link = url ? `<a href="${escapeHtml(url)}">${heading}</a>` : heading
      return `<p><strong>${link}</strong></p>\n<blockquote>${escapeHtml(preview(item))}</blockquote>`
    })
    .join('\n')
    .concat(htmlFooter)
  return { subject: subject.replace(/[\r\n]+/g, ' '), text, html: `<!doctype html>\n<html><body>\n${html}\n</body></html>` }
}
