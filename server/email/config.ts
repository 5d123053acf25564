/**
 * Email configuration from the environment: on when `SMTP_URL` (`smtp://` or `smtps://`, user and
 * password in the URL) and `EMAIL_FROM` (an address, optionally with a display name) are both
 * set; one without the other is a configuration error naming the missing one, as for push.
 */
import addressparser from 'nodemailer/lib/addressparser'
import { err, ok, type Result } from '../../protocol/index.ts'

export interface EmailConfig {
  /** `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  smtpUrl: string
  /** The `From` of every email. */
  from: string
}

export interface EmailVariables {
  SMTP_URL?: string | undefined
  EMAIL_FROM?: string | undefined
}

/** Whether `from` holds exactly one address (`ops@example.com` or `Parley <ops@example.com>`). */
function isOneAddress(from: string): boolean {
  const parsed = addressparser(from, { flatten: true })
  return parsed.length === 1 && /^[^\s@]+@[^\s@]+$/.test(parsed[0]?.address ?? '')
}

export function emailConfig(e: EmailVariables): Result<EmailConfig | undefined, string> {
  if (e.SMTP_URL === undefined && e.EMAIL_FROM === undefined) return ok(undefined)
  if (e.SMTP_URL === undefined) return err('invalid SMTP_URL: email needs SMTP_URL and EMAIL_FROM (EMAIL_FROM is set)')
  if (e.EMAIL_FROM === undefined) return err('invalid EMAIL_FROM: email needs SMTP_URL and EMAIL_FROM (SMTP_URL is set)')
  let url: URL
  try {
    url = new URL(e.SMTP_URL)
  } catch {
    return err('invalid SMTP_URL: must be a URL such as smtp://user:password@mail.example.com:587')
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return err('invalid SMTP_URL: must start with smtp:// or smtps://')
  if (url.hostname === '') return err('invalid SMTP_URL: names no host')
  if (!isOneAddress(e.EMAIL_FROM)) return err('invalid EMAIL_FROM: must be one address, e.g. "Parley <notifications@example.com>"')
  return ok({ smtpUrl: e.SMTP_URL, from: e.EMAIL_FROM })
}
