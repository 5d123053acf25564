/**
 * Email on PostgreSQL (the digest window is stored there: `user_contacts.emailed_at`): a mention
 * emailed at once, the first reply of a window at once and the next at the window's end; and an
 * SMTP server that does not answer leaves the delivery `failed`, retried with backoff.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { rest } from '../helpers/rest.ts'
import { closedPort } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait.ts'
import { startEmailWorld, SUBJECT, type EmailWorld } from './setup.ts'

const postgres = BACKENDS.find((b) => b.name === 'postgres')!

describe('email on PostgreSQL', () => {
  let e: EmailWorld | undefined
  afterEach(async () => {
    await e?.dispose()
    e = undefined
  })

  it('emails a mention at once and holds the next reply to the end of the stored window', async () => {
    e = await startEmailWorld(postgres)
    const w = e
    await w.setEmail('ben', 'ben@example.com')
    await rest(w.world.s, 'PUT', '/api/v1/preferences', { bearer: await w.world.s.token('ben'), json: { digestSeconds: 2, kinds: { reply: { email: true } } } })
    const [ana, ben] = [await w.world.open(SUBJECT, 'ana'), await w.world.open(SUBJECT, 'ben')]
    const thread = createThread({ doc: ben.doc, userId: 'ben' }, 'a topic').threadId
    await waitFor(() => threadsMap(ana.doc).has(thread), 'the thread at ana')
    ben.destroy()
    await w.mention('ben', 'pg ')
    await waitFor(async () => (await w.world.s.server.storage.contacts.lastEmailedAt('ben')) !== null, 'the mention emailed at once, the window open')
    const mentionedAt = Date.now()
    expect(w.peer.delivered).toHaveLength(1)
    reply({ doc: ana.doc, userId: 'ana' }, thread, 'inside the window')
    await waitFor(() => w.peer.delivered.length === 2, 'the reply at the window’s end', 10_000)
    expect(Date.now() - mentionedAt).toBeGreaterThanOrEqual(1_500)
    expect(w.peer.delivered[1]?.mail.subject).toBe(`ANA replied in ${SUBJECT}`)
  }, 20_000)

  it('retries when the SMTP server cannot be reached', async () => {
    e = await startEmailWorld(postgres, `smtp://127.0.0.1:${await closedPort()}`)
    const w = e
    await w.setEmail('ben', 'ben@example.com')
    await w.mention('ben', 'unreachable ')
    await waitFor(async () => (await w.emailDeliveries('ben'))[0]?.status === 'failed', 'failed, to be retried')
    const [delivery] = await w.emailDeliveries('ben')
    expect(delivery?.reason).toMatch(/ECONNREFUSED|ECONNECTION/)
    const [note] = await w.world.notifications('ben')
    const [row] = (await w.world.s.server.storage.notifications.outboxOf('ben', note!.id)).filter((r) => r.channel === 'email')
    expect(row).toMatchObject({ status: 'pending' })
    expect(row!.nextAttemptAt).toBeGreaterThan(Date.now() - 1_000)
  }, 20_000)
})
