/**
 * A real SMTP server on loopback (`smtp-server`, port 0) for the email tests: it speaks SMTP as a
 * mail provider does, takes an optional AUTH (`hideSTARTTLS`: its bundled certificate expired, so
 * plain `smtp://`), parses each message with `mailparser`, and answers each DATA as the test says
 * (250 by default, or a 4xx/5xx code). Every attempt is recorded with its answer.
 */
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface SmtpAttempt {
  to: string[]
  /** The SMTP code the peer answered the message with. */
  answered: number
  mail: ParsedMail
  /** The user of the AUTH command, if the client authenticated. */
  user: string | undefined
}

export interface SmtpPeer {
  port: number
  /** `smtp://user:password@127.0.0.1:<port>` */
  url: string
  attempts: SmtpAttempt[]
  /** The messages accepted (answered 250). */
  readonly delivered: SmtpAttempt[]
  /** The code for the next message; 250 accepts. */
  answer: (to: string[]) => number
  close(): Promise<void>
}

export const SMTP_USER = 'parley'
export const SMTP_PASSWORD = 's3cret pass'

function refusal(code: number): Error & { responseCode: number } {
  return Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code })
}

export async function startSmtpPeer(): Promise<SmtpPeer> {
  const attempts: SmtpAttempt[] = []
  const peer: SmtpPeer = {
    port: 0,
    url: '',
    attempts,
    get delivered() {
      return attempts.filter((a) => a.answered === 250)
    },
    answer: () => 250,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  const server = new SMTPServer({
    hideSTARTTLS: true,
    authOptional: true,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username })
      else callback(refusal(535))
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address)
      simpleParser(stream)
        .then((mail) => {
          const answered = peer.answer(to)
          attempts.push({ to, answered, mail, user: typeof session.user === 'string' ? session.user : undefined })
          callback(answered === 250 ? null : refusal(answered))
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))))
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  peer.port = (server.server.address() as AddressInfo).port
  peer.url = `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${peer.port}`
  return peer
}
