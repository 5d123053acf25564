/**
 * What the email channel asks of a mail transport, and what it answers: one message to one
 * address, and an outcome the delivery policy understands. The SMTP sender (nodemailer) lives in
 * server/email/; this is its contract.
 */

/** One email, ready to go. */
export interface EmailMessage {
  to: string
  subject: string
  text: string
  html: string
  /** Extra headers (`List-Unsubscribe`, `List-Unsubscribe-Post`). */
  headers: Record<string, string>
  /**
   * The local part of the `Message-ID`, the same for every send of the same notifications and
   * rounds: a repeat after a crash or a retry is the same message, which mailboxes show once.
   */
  messageKey: string
}

/** What one send did. */
export type EmailOutcome =
  /** The SMTP server accepted the message. */
  | { status: 'sent' }
  /** Try again later: a 4xx answer, or the connection failed. */
  | { status: 'retry'; reason: string }
  /** Refused for good (a 5xx answer): the delivery is dead. */
  | { status: 'failed'; reason: string }

export interface EmailSender {
  send(message: EmailMessage): Promise<EmailOutcome>
  /** Closes pooled connections. */
  close(): Promise<void>
}

/** Email metrics (server/email/metrics.ts). */
export interface EmailMetrics {
  /** One send's outcome (sent, retry, failed) with its duration, or a skip (skipped_<reason>). */
  outcome(outcome: string, seconds?: number): void
  dead(): void
}
