/**
 * Email across kill -9: the server kills itself (PARLEY_FAULT=email-after-send) right after the
 * SMTP peer accepted an email and before the delivery was recorded. After a restart the outbox
 * row comes due again once its lease runs out: the email is recorded as sent, with at most one
 * duplicate, which carries the same Message-ID (mailboxes show it once). The server is a real
 * `parley serve` configured from SMTP_URL and EMAIL_FROM.
 */
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { startSmtpPeer, type SmtpPeer } from '../helpers/smtp-peer.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** The outbox lease (core/notifications/outbox.ts) and then some: a crashed claim is due again after it. */
const LEASE_AND_MARGIN_MS = 25_000

describe('email across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []
  let peer: SmtpPeer | undefined
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    await peer?.close()
  })

  it('after the SMTP server accepted and before the delivery was recorded: recorded once, at most one duplicate with the same Message-ID', async () => {
    peer = await startSmtpPeer()
    const dataDir = tempDir()
    dirs.push(dataDir)
    const secret = newSecret()
    const env = {
      PARLEY_DATA_DIR: dataDir,
      PARLEY_JWT_SECRET: secret,
      PARLEY_API_KEY: TEST_API_KEY,
      SMTP_URL: peer.url,
      EMAIL_FROM: 'Parley <notify@example.com>',
    }
    const first = await startChild({ ...env, PARLEY_FAULT: 'email-after-send' })
    children.push(first)
    const contact = await fetch(`${first.httpUrl}/api/v1/users/ben`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ben', handle: 'ben', email: 'ben@example.com' }),
    })
    expect(contact.status).toBe(200)
    // Ben's token is remembered (its access claim lets him read the subject, so he may be notified).
    const ben = await tokenFor(secret, 'ben')
    expect((await fetch(`${first.httpUrl}/api/v1/notifications`, { headers: { authorization: `Bearer ${ben}` } })).status).toBe(200)
    const ana = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
    clients.push(ana)
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'ping ' }, { text: '@Ben', mention: 'ben' }])
    await acknowledged(ana)
    expect(await first.exited).toBeNull()
    expect(peer.delivered).toHaveLength(1)

    const second = await startChild(env)
    children.push(second)
    const deliveries = async () => {
      const list = await fetch(`${second.httpUrl}/api/v1/notifications`, { headers: { authorization: `Bearer ${ben}` } })
      const listed = (await list.json()) as { notifications?: Array<{ id: string }> }
      if (!listed.notifications) throw new Error(`notifications: ${list.status} ${JSON.stringify(listed)}`)
      const [note] = listed.notifications
      if (!note) return []
      const answer = await fetch(`${second.httpUrl}/api/v1/notifications/${note.id}/deliveries`, { headers: { authorization: `Bearer ${ben}` } })
      return ((await answer.json()) as { deliveries: Array<{ channel: string; status: string }> }).deliveries
    }
    // Polled every 250 ms: faster would run into the per-user REST rate limit.
    let checkedAt = 0
    await waitFor(
      async () => {
        if (Date.now() - checkedAt < 250) return false
        checkedAt = Date.now()
        return (await deliveries()).some((d) => d.channel === 'email' && d.status === 'sent')
      },
      'recorded as sent after the restart',
      LEASE_AND_MARGIN_MS,
    )
    expect(peer.delivered.length).toBeGreaterThanOrEqual(1)
    expect(peer.delivered.length).toBeLessThanOrEqual(2)
    const ids = new Set(peer.delivered.map((a) => a.mail.messageId))
    expect(ids.size).toBe(1)
    expect([...ids][0]).toMatch(/^<parley\.[\w-]{32}@example\.com>$/)
  }, 60_000)
})
