/**
 * Contract additions, "Email", end to end against a real SMTP peer on loopback (smtp-server,
 * parsed with mailparser): a mention is emailed at once with escaped HTML, links from
 * PARLEY_APP_URL and one-click List-Unsubscribe headers; later activity inside the digest window
 * goes out as one email at its end; a notification read before its email went out is not
 * emailed; a 4xx answer is retried and delivered once, a 5xx one is dead; a user without an
 * address is skipped with a reason.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { SMTP_USER } from '../helpers/smtp-peer.ts'
import { waitFor } from '../helpers/wait.ts'
import { rawHeader, startEmailWorld, SUBJECT, type EmailWorld } from './setup.ts'

describe('email over SMTP', () => {
  let e: EmailWorld
  beforeEach(async () => {
    e = await startEmailWorld()
    await e.setEmail('ben', 'ben@example.com')
  })
  afterEach(async () => {
    await e.dispose()
  })

  const ben = async () => e.world.s.token('ben')

  it('emails a mention at once: escaped HTML, plain text, app links, one-click unsubscribe headers, one sent delivery', async () => {
    await e.mention('ben', '<script>alert("x")</script> & look ')
    await waitFor(async () => (await e.emailDeliveries('ben'))[0]?.status === 'sent', 'the mention emailed')
    const [note] = await e.world.notifications('ben')
    const sent = e.peer.delivered[0]
    expect(sent?.to).toEqual(['ben@example.com'])
    expect(sent?.user).toBe(SMTP_USER)
    const mail = sent!.mail
    expect(mail.from?.value).toEqual([{ name: 'Parley', address: 'notify@example.com' }])
    expect(mail.subject).toBe(`ANA mentioned you in ${SUBJECT}`)
    expect(mail.html).not.toContain('<script>')
    expect(mail.html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; look @ben')
    expect(mail.text).toContain('<script>alert("x")</script> & look @ben')
    const link = `https://app.example.com/s/${SUBJECT}?thread=${note?.threadId}#${note?.commentId}`
    expect(mail.text).toContain(link)
    expect(mail.html).toContain(`href="${link}"`)
    const unsubscribe = rawHeader(mail, 'List-Unsubscribe')
    expect(unsubscribe).toMatch(new RegExp(`^<${e.world.s.server.httpUrl}/api/v1/unsubscribe\\?token=[\\w-]+\\.[\\w-]+>$`))
    expect(rawHeader(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click')
    expect(rawHeader(mail, 'Auto-Submitted')).toBe('auto-generated')
    expect(mail.messageId).toMatch(/^<parley\.[\w-]{32}@example\.com>$/)
    expect(await e.emailDeliveries('ben')).toMatchObject([{ status: 'sent', attempts: 1, reason: null, deviceId: null }])
    const owner = await rest<{ deliveries: unknown[] }>(e.world.s, 'GET', `/api/v1/notifications/${note?.id}/deliveries`, { bearer: await ben() })
    expect(owner.body.deliveries).toEqual([{ channel: 'email', deviceId: null, status: 'sent', reason: null, attempts: 1, updatedAt: expect.any(Number) }])
    const metrics = await (await fetch(`${e.world.s.server.httpUrl}/metrics`)).text()
    expect(metrics).toContain('parley_email_deliveries_total{outcome="sent"} 1')
    // The contract's `notification.delivered`, once, for the email channel.
    const delivered = e.world.events.filter((event) => event.type === 'notification.delivered')
    expect(delivered.map((event) => event.data)).toEqual([
      { userId: 'ben', notificationId: note?.id, subjectId: SUBJECT, channel: 'email', deviceId: null, attempts: 1, round: note?.notifiedAt },
    ])
  })

  it('sends the first reply of a window at once, and three later replies as one digest email at its end', async () => {
    const prefs = await rest(e.world.s, 'PUT', '/api/v1/preferences', { bearer: await ben(), json: { digestSeconds: 2, kinds: { reply: { email: true } } } })
    expect(prefs.status).toBe(200)
    const [ana, bc] = [await e.world.open(SUBJECT, 'ana'), await e.world.open(SUBJECT, 'ben')]
    const threads = ['first', 'second', 'third'].map((topic) => createThread({ doc: bc.doc, userId: 'ben' }, `${topic} topic`).threadId)
    await waitFor(() => threads.every((id) => threadsMap(ana.doc).has(id)), 'the threads at ana')
    bc.destroy()
    const [one, two, three] = threads as [string, string, string]
    reply({ doc: ana.doc, userId: 'ana' }, one, 'a first answer')
    await waitFor(() => e.peer.delivered.length === 1, 'the first reply emailed at once')
    const firstAt = Date.now()
    expect(e.peer.delivered[0]?.mail.subject).toBe(`ANA replied in ${SUBJECT}`)
    reply({ doc: ana.doc, userId: 'ana' }, two, 'an answer to two')
    reply({ doc: ana.doc, userId: 'ana' }, three, 'an answer to three')
    reply({ doc: ana.doc, userId: 'ana' }, one, 'a second answer to one')
    await waitFor(async () => (await e.world.notifications('ben')).length === 3, 'three reply notifications')
    await waitFor(async () => (await e.emailDeliveries('ben')).filter((d) => d.status === 'sent').length === 3, 'the digest at the window’s end', 10_000)
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(1_500)
    const digest = e.peer.delivered[1]!.mail
    expect(digest.subject).toBe(`3 new notifications in ${SUBJECT}`)
    for (const text of ['an answer to two', 'an answer to three', 'a second answer to one']) expect(digest.text).toContain(text)
    expect(rawHeader(digest, 'List-Unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/api\/v1\/unsubscribe\?token=/)
    expect((await e.emailDeliveries('ben')).map((d) => [d.status, d.reason])).toEqual([
      ['sent', 'digest'],
      ['sent', 'digest'],
      ['sent', 'digest'],
    ])
    expect(e.peer.attempts).toHaveLength(2)
  }, 20_000)

  it('does not email a notification read before its email went out', async () => {
    await rest(e.world.s, 'PUT', '/api/v1/preferences', { bearer: await ben(), json: { digestSeconds: 2, kinds: { reply: { email: true } } } })
    const [ana, bc] = [await e.world.open(SUBJECT, 'ana'), await e.world.open(SUBJECT, 'ben')]
    const one = createThread({ doc: bc.doc, userId: 'ben' }, 'one').threadId
    const two = createThread({ doc: bc.doc, userId: 'ben' }, 'two').threadId
    await waitFor(() => threadsMap(ana.doc).has(one) && threadsMap(ana.doc).has(two), 'the threads at ana')
    bc.destroy()
    reply({ doc: ana.doc, userId: 'ana' }, one, 'emailed at once')
    await waitFor(() => e.peer.delivered.length === 1, 'the first reply emailed')
    reply({ doc: ana.doc, userId: 'ana' }, two, 'read in the app first')
    const held = async () => {
      const note = (await e.world.notifications('ben')).find((n) => n.threadId === two)
      const rows = note ? await e.world.s.server.storage.notifications.outboxOf('ben', note.id) : []
      return rows.find((r) => r.channel === 'email')?.lastError === 'digest window' ? note : undefined
    }
    await waitFor(async () => (await held()) !== undefined, 'the second reply held for the window')
    const note = await held()
    const read = await rest(e.world.s, 'POST', '/api/v1/notifications/read', { bearer: await ben(), json: { ids: [note?.id] } })
    expect(read.status).toBe(200)
    const deliveryOf = async () => (await e.world.s.server.storage.deliveries.ofNotification('ben', note!.id)).find((d) => d.channel === 'email')
    await waitFor(async () => (await deliveryOf())?.status === 'skipped', 'skipped at the window’s end', 10_000)
    expect(await deliveryOf()).toMatchObject({ status: 'skipped', reason: 'read', attempts: 0 })
    expect(e.peer.attempts).toHaveLength(1)
  }, 20_000)

  it('retries a 4xx answer and delivers once', async () => {
    const answers = [451, 250]
    e.peer.answer = () => answers.shift() ?? 250
    await e.mention('ben', 'busy ')
    await waitFor(async () => (await e.emailDeliveries('ben'))[0]?.status === 'sent', 'delivered after a retry', 15_000)
    expect(e.peer.attempts.map((a) => a.answered)).toEqual([451, 250])
    expect(await e.emailDeliveries('ben')).toMatchObject([{ status: 'sent', attempts: 2, reason: null }])
  }, 20_000)

  it('marks a 5xx answer dead, visible to the owner and in the backend’s dead list', async () => {
    e.peer.answer = () => 550
    await e.mention('ben', 'nobody home ')
    await waitFor(async () => (await e.emailDeliveries('ben'))[0]?.status === 'dead', 'dead after a 5xx')
    const [note] = await e.world.notifications('ben')
    const [delivery] = await e.emailDeliveries('ben')
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 })
    expect(delivery?.reason).toContain('550')
    const owner = await rest<{ deliveries: Array<{ status: string }> }>(e.world.s, 'GET', `/api/v1/notifications/${note?.id}/deliveries`, {
      bearer: await ben(),
    })
    expect(owner.body.deliveries).toMatchObject([{ channel: 'email', status: 'dead' }])
    const dead = await rest<{ deliveries: unknown[] }>(e.world.s, 'GET', '/api/v1/deliveries?status=dead', { bearer: TEST_API_KEY })
    expect(dead.body.deliveries).toMatchObject([{ channel: 'email', userId: 'ben', notificationId: note?.id, status: 'dead' }])
    expect(e.peer.attempts).toHaveLength(1)
    const metrics = await (await fetch(`${e.world.s.server.httpUrl}/metrics`)).text()
    expect(metrics).toContain('parley_email_dead_total 1')
  })

  it('skips a user without an address, with the reason', async () => {
    await e.mention('cid', 'no address ')
    await waitFor(async () => (await e.emailDeliveries('cid'))[0]?.status === 'skipped', 'skipped: no address')
    expect((await e.emailDeliveries('cid'))[0]).toMatchObject({ reason: 'no_email', attempts: 0 })
    expect(e.peer.attempts).toHaveLength(0)
  })
})
