/**
 * One-click unsubscribe (RFC 8058) end to end: the URL of an email's List-Unsubscribe header,
 * POSTed as a mail client does (no bearer, `List-Unsubscribe=One-Click` form body), turns email
 * off for that kind in the user's preferences, and the next one is not emailed; a forged or
 * altered token is refused with 403 `unsubscribe_token_invalid`; GET changes nothing and shows a
 * confirmation page.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { rawHeader, startEmailWorld, type EmailWorld } from './setup.ts'

const oneClick = (url: string, accept = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept }, body: 'List-Unsubscribe=One-Click' })

describe('one-click unsubscribe', () => {
  let e: EmailWorld
  beforeEach(async () => {
    e = await startEmailWorld()
    await e.setEmail('ben', 'ben@example.com')
  })
  afterEach(async () => {
    await e.dispose()
  })

  it('turns email off for the kind with the signed link of the email; forged links are refused; the next mention is not emailed', async () => {
    await e.mention('ben', 'first ')
    await waitFor(() => e.peer.delivered.length === 1, 'the mention emailed')
    const header = rawHeader(e.peer.delivered[0]!.mail, 'List-Unsubscribe') ?? ''
    const url = header.slice(1, -1)
    const token = new URL(url).searchParams.get('token') ?? ''
    expect(e.peer.delivered[0]?.mail.text).toContain(`Stop these emails: ${url}`)

    // Forged: another user's payload under this signature, a made-up token, no token.
    const [, signature] = token.split('.')
    const forged = `${Buffer.from(JSON.stringify({ u: 'cid', k: 'mention' })).toString('base64url')}.${signature}`
    for (const bad of [forged, 'abc.def', `${token}x`]) {
      const refused = await oneClick(`${e.world.s.server.httpUrl}/api/v1/unsubscribe?token=${encodeURIComponent(bad)}`)
      expect(refused.status).toBe(403)
      expect(await refused.json()).toMatchObject({ error: { code: 'unsubscribe_token_invalid' } })
    }
    expect((await oneClick(`${e.world.s.server.httpUrl}/api/v1/unsubscribe`)).status).toBe(400)

    // GET is a confirmation page and changes nothing.
    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('<strong>mention</strong>')
    expect(html).toContain('<form method="post"')
    const before = await rest<{ kinds: Record<string, { email: boolean }> }>(e.world.s, 'GET', '/api/v1/preferences', { bearer: await e.world.s.token('ben') })
    expect(before.body.kinds.mention?.email).toBe(true)

    const done = await oneClick(url)
    expect(done.status).toBe(200)
    expect(await done.json()).toEqual({ kinds: ['mention'], email: false })
    expect((await oneClick(url, 'text/html')).headers.get('content-type')).toContain('text/html')
    const after = await rest<{ kinds: Record<string, Record<string, boolean>> }>(e.world.s, 'GET', '/api/v1/preferences', {
      bearer: await e.world.s.token('ben'),
    })
    expect(after.body.kinds.mention).toEqual({ inApp: true, push: true, email: false })
    expect(after.body.kinds.moderation).toEqual({ inApp: true, push: true, email: true })
    const cid = await rest<{ kinds: Record<string, Record<string, boolean>> }>(e.world.s, 'GET', '/api/v1/preferences', {
      bearer: await e.world.s.token('cid'),
    })
    expect(cid.body.kinds.mention?.email).toBe(true)

    await e.mention('ben', 'second ')
    const settled = async () => {
      const notes = await e.world.notifications('ben')
      if (notes.length < 2) return false
      const rows = await Promise.all(notes.map((n) => e.world.s.server.storage.notifications.outboxOf('ben', n.id)))
      return rows.flat().every((r) => r.channel !== 'email' || r.status === 'delivered')
    }
    await waitFor(settled, 'the second mention through the email channel')
    expect(e.peer.attempts).toHaveLength(1)
    expect(await e.emailDeliveries('ben')).toHaveLength(1)
  })
})
