/**
 * The SMTP sender (nodemailer, pooled connections to `SMTP_URL`): one message per call, and the
 * answer mapped for the delivery policy. A 5xx answer is a refusal for good (`failed`: the
 * delivery is dead); a 4xx answer, a timeout or a connection that fails is tried again later.
 */
import nodemailer from 'nodemailer'
import addressparser from 'nodemailer/lib/addressparser'
import type { EmailMessage, EmailOutcome, EmailSender } from '../../core/email/sender.ts'

/** Pooled SMTP connections at most. */
export const SMTP_MAX_CONNECTIONS = 5
/** Time to open a connection, and to get the greeting, before the send counts as a connection failure. */
export const SMTP_CONNECT_TIMEOUT_MS = 5_000
/** Longest silence on an open connection before it is dropped (kept under the outbox lease). */
export const SMTP_SOCKET_TIMEOUT_MS = 8_000

/** What nodemailer's errors carry. */
interface SmtpError {
  message: string
  code?: string | undefined
  responseCode?: number | undefined
  response?: string | undefined
}

function asSmtpError(error: unknown): SmtpError {
  if (typeof error !== 'object' || error === null) return { message: String(error) }
  const e = error as { message?: unknown; code?: unknown; responseCode?: unknown; response?: unknown }
  return {
    message: typeof e.message === 'string' ? e.message : String(error),
    code: typeof e.code === 'string' ? e.code : undefined,
    responseCode: typeof e.responseCode === 'number' ? e.responseCode : undefined,
    response: typeof e.response === 'string' ? e.response : undefined,
  }
}

/** 5xx: refused for good; 4xx, or no SMTP answer at all (connection, timeout): try again. */
export function classifySmtpError(error: unknown): EmailOutcome {
  const e = asSmtpError(error)
  const reason = (e.response ?? e.message).slice(0, 300)
  if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600) return { status: 'failed', reason }
  return { status: 'retry', reason: e.code && !reason.includes(e.code) ? `${e.code}: ${reason}` : reason }
}

export function createSmtpSender(options: { smtpUrl: string; from: string }): EmailSender {
  const domain = addressparser(options.from, { flatten: true })[0]?.address.split('@')[1] ?? 'parley.invalid'
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    pool: true,
    maxConnections: SMTP_MAX_CONNECTIONS,
    connectionTimeout: SMTP_CONNECT_TIMEOUT_MS,
    greetingTimeout: SMTP_CONNECT_TIMEOUT_MS,
    socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
  })
  return {
    async send(message: EmailMessage): Promise<EmailOutcome> {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: message.headers,
          messageId: `<${message.messageKey}@${domain}>`,
        })
        if (info.accepted.length === 0) return classifySmtpError(info.rejectedErrors?.[0] ?? new Error('the recipient was rejected'))
        return { status: 'sent' }
      } catch (error) {
        return classifySmtpError(error)
      }
    },
    async close() {
      transport.close()
    },
  }
}
