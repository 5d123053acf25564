/**
 * One-click unsubscribe (RFC 8058, contract additions "Email"): every email's `List-Unsubscribe`
 * names `POST /api/v1/unsubscribe?token=…`. No bearer: the signed token (core/email/unsubscribe.ts)
 * names the user and the kinds, and the POST turns email off for them in the user's preferences
 * (the storage `PUT /api/v1/preferences` uses; other channels and kinds keep their value). A token
 * this server did not sign is 403 `unsubscribe_token_invalid`. `GET` changes nothing (mail
 * scanners fetch links): it answers a small page whose button makes the same POST. The POST
 * answers JSON, or a short page when the caller accepts HTML (that button).
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { ErrorCode } from '../../../protocol/index.ts'
import { escapeHtml } from '../../../core/email/template.ts'
import { MAX_UNSUBSCRIBE_TOKEN_LENGTH, unsubscribeKinds, verifyUnsubscribeToken, type UnsubscribeTarget } from '../../../core/email/unsubscribe.ts'
import { mergePreferences, NOTIFICATION_KINDS, type NotificationKind, type StoredPreferences } from '../../../core/notifications/preferences.ts'
import { errorResponse } from '../errors.ts'
import { publicRoute, type RouteDefinition } from '../route.ts'
import type { RestDependencies } from './context.ts'

export const UNSUBSCRIBE_PATH = '/api/v1/unsubscribe'

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }
const FORGED = { code: ErrorCode.UnsubscribeTokenInvalid, message: 'this unsubscribe link is not one this server signed' }

const query = z.object({ token: z.string().min(1).max(MAX_UNSUBSCRIBE_TOKEN_LENGTH) })
const answer = z.object({ kinds: z.array(z.enum(NOTIFICATION_KINDS)), email: z.literal(false) })

/** The user and the known kinds of a token this key signed; null otherwise. */
function verify(key: Uint8Array | undefined, token: string): { target: UnsubscribeTarget; kinds: NotificationKind[] } | null {
  const target = key === undefined ? null : verifyUnsubscribeToken(key, token)
  if (!target) return null
  const kinds = unsubscribeKinds(target.kind)
  const known = (k: string): k is NotificationKind => (NOTIFICATION_KINDS as readonly string[]).includes(k)
  return kinds.length > 0 && kinds.every(known) ? { target, kinds } : null
}

function page(c: Context, title: string, body: string): Response {
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>\n<body>\n<h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>`
  return c.html(html)
}

const kindList = (kinds: readonly string[]) => kinds.map((k) => `<strong>${escapeHtml(k)}</strong>`).join(', ')

export function unsubscribeRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, logger, unsubscribeKey } = deps
  return [
    publicRoute(
      {
        method: 'post',
        path: UNSUBSCRIBE_PATH,
        tag: 'preferences',
        summary: 'One-click unsubscribe from an email (RFC 8058)',
        description:
          'The URL of an email’s `List-Unsubscribe` header. No bearer: the signed `token` names the user and the kinds; email is turned off for them in the user’s preferences. Idempotent. A token this server did not sign is 403 `unsubscribe_token_invalid`. Answers HTML when the caller accepts it (the confirmation page’s button).',
        query,
        responses: { 200: { description: 'Email is off for these kinds', schema: answer } },
        errors: [400, 403, 503],
      },
      async ({ c, query }) => {
        const verified = verify(unsubscribeKey, query.token)
        if (!verified) return errorResponse(c, FORGED)
        const { target, kinds } = verified
        const patch: StoredPreferences = { kinds: Object.fromEntries(kinds.map((k) => [k, { email: false }])) }
        try {
          await storage.preferences.update(target.userId, (current) => mergePreferences(current, patch))
        } catch (error) {
          logger.error({ err: error, userId: target.userId }, 'an unsubscribe could not be stored')
          return errorResponse(c, STORAGE_DOWN)
        }
        logger.info({ userId: target.userId, kinds }, 'email turned off by one-click unsubscribe')
        if (c.req.header('accept')?.includes('text/html')) return page(c, 'Unsubscribed', `<p>You will get no more emails about ${kindList(kinds)}.</p>`)
        return c.json({ kinds, email: false as const })
      },
    ),
    publicRoute(
      {
        method: 'get',
        path: UNSUBSCRIBE_PATH,
        tag: 'preferences',
        summary: 'The confirmation page of an unsubscribe link',
        description:
          'Changes nothing (mail scanners fetch links): an HTML page naming the kinds, whose button POSTs to the same URL. A token this server did not sign is 403 `unsubscribe_token_invalid`.',
        query,
        responses: { 200: { description: 'An HTML page (text/html)' } },
        errors: [400, 403],
      },
      async ({ c, query }) => {
        const verified = verify(unsubscribeKey, query.token)
        if (!verified) return errorResponse(c, FORGED)
        const action = `${UNSUBSCRIBE_PATH}?token=${encodeURIComponent(query.token)}`
        return page(
          c,
          'Stop these emails?',
          `<p>Stop emails about ${kindList(verified.kinds)}.</p>\n<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
        )
      },
    ),
  ]
}
