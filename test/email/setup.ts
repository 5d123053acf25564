/** Shared set-up of the email tests: a world whose server sends to a real SMTP peer on loopback. */
import type { ParsedMail } from 'mailparser'
import { createThread } from '../../protocol/index.ts'
import type { DeliveryRecord } from '../../core/delivery/deliveries.ts'
import type { Backend } from '../access/backends.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startSmtpPeer, type SmtpPeer } from '../helpers/smtp-peer.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

export const APP_URL = 'https://app.example.com/s/{subjectId}?thread={threadId}#{commentId}'
export const FROM = 'Parley <notify@example.com>'
export const SUBJECT = 'post-1'

export interface EmailWorld {
  world: World
  peer: SmtpPeer
  /** Sets the user's directory address. */
  setEmail(userId: string, email: string | null): Promise<void>
  /** Ana mentions `userId` in a new thread on {@link SUBJECT}. */
  mention(userId: string, text: string): Promise<void>
  /** The user's email deliveries, newest notification first. */
  emailDeliveries(userId: string): Promise<DeliveryRecord[]>
  dispose(): Promise<void>
}

export async function startEmailWorld(backend?: Backend, smtpUrl?: string): Promise<EmailWorld> {
  const peer = await startSmtpPeer()
  const world = await startWorld({ email: { smtpUrl: smtpUrl ?? peer.url, from: FROM }, appUrl: APP_URL }, backend)
  await registerSubject(world.s, SUBJECT)
  return {
    world,
    peer,
    async setEmail(userId, email) {
      const answer = await rest(world.s, 'PUT', `/api/v1/users/${userId}`, {
        bearer: TEST_API_KEY,
        json: { name: userId.toUpperCase(), handle: userId, email },
      })
      if (answer.status !== 200) throw new Error(`email of ${userId}: ${answer.status}`)
    },
    async mention(userId, text) {
      const ana = world.clients.find((c) => c.provider.configuration.name === `comments/${SUBJECT}`) ?? (await world.open(SUBJECT, 'ana'))
      createThread({ doc: ana.doc, userId: 'ana' }, [{ text }, { text: `@${userId}`, mention: userId }])
    },
    async emailDeliveries(userId) {
      const notes = await world.notifications(userId)
      const all = await Promise.all(notes.map((n) => world.s.server.storage.deliveries.ofNotification(userId, n.id)))
      return all.flat().filter((d) => d.channel === 'email')
    },
    async dispose() {
      await world.dispose()
      await peer.close()
    },
  }
}

/** A raw header of a parsed email (mailparser structures `List-*` headers; the raw line is what a client reads). */
export function rawHeader(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === name.toLowerCase())?.line
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n\s+/g, ' ')
    .trim()
}
