/**
 * core/notifications/preferences.ts in process: effective values over the defaults, merge, and
 * the one question every channel asks (contract additions, "Preferences" and "Delivery").
 */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_CHANNELS,
  effectivePreferences,
  isTimeZone,
  mayDeliver,
  mergePreferences,
  quietUntil,
  type DeliveryQuestion,
} from '../../core/notifications/preferences.ts'

const reply: DeliveryQuestion = { kind: 'reply', subjectId: 's1', priority: 'normal' }
/** 2026-12-04 23:30 in Paris (UTC+1). */
const PARIS_2330 = Date.UTC(2026, 11, 4, 22, 30)
const quietHours = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' }

describe('preferences', () => {
  it('fills what a user did not set from the defaults', () => {
    const prefs = effectivePreferences({ kinds: { reply: { push: false } } }, 120)
    expect(prefs.kinds.reply).toEqual({ inApp: true, push: false, email: false })
    expect(prefs.kinds.mention).toEqual(DEFAULT_CHANNELS.mention)
    expect(prefs).toMatchObject({ digestSeconds: 120, mutedSubjects: [], quietHours: null })
  })

  it('merges: channels and fields left out keep their value, muted subjects once each', () => {
    const first = mergePreferences(null, { kinds: { reply: { push: false } }, quietHours })
    const second = mergePreferences(first, { kinds: { reply: { email: true } }, mutedSubjects: ['a', 'a', 'b'] })
    expect(second).toEqual({ kinds: { reply: { push: false, email: true } }, quietHours, mutedSubjects: ['a', 'b'] })
    expect(mergePreferences(second, { quietHours: null }).quietHours).toBeNull()
  })

  it('knows IANA time zones', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true)
    expect(isTimeZone('UTC')).toBe(true)
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })

  it('tells quiet hours across midnight in the user’s time zone, and when they end', () => {
    // 23:30 in Paris: inside 22:00–07:00, which ends at 07:00 Paris = 06:00 UTC the next day.
    expect(quietUntil(quietHours, PARIS_2330)).toBe(Date.UTC(2026, 11, 5, 6, 0))
    // 21:59 in Paris: outside.
    expect(quietUntil(quietHours, Date.UTC(2026, 11, 4, 20, 59))).toBeNull()
    // The same instant is 17:30 in New York: outside New York's quiet hours.
    expect(quietUntil({ ...quietHours, timeZone: 'America/New_York' }, PARIS_2330)).toBeNull()
    // Daytime quiet hours; equal start and end mean none.
    expect(quietUntil({ start: '09:00', end: '17:00', timeZone: 'UTC' }, Date.UTC(2026, 11, 4, 12, 15))).toBe(Date.UTC(2026, 11, 4, 17, 0))
    expect(quietUntil({ start: '09:00', end: '09:00', timeZone: 'UTC' }, Date.UTC(2026, 11, 4, 9, 0))).toBeNull()
  })

  it('answers may this go on this channel now, and why not', () => {
    const defaults = effectivePreferences(null)
    expect(mayDeliver(defaults, reply, 'inApp', PARIS_2330).ok).toBe(true)
    expect(mayDeliver(defaults, reply, 'push', PARIS_2330).ok).toBe(true)
    expect(mayDeliver(defaults, reply, 'email', PARIS_2330)).toEqual({ ok: false, error: { reason: 'channel_off' } })

    const muted = effectivePreferences({ mutedSubjects: ['s1'] })
    expect(mayDeliver(muted, reply, 'inApp', PARIS_2330)).toEqual({ ok: false, error: { reason: 'subject_muted' } })
    // A muted subject still gives mentions.
    expect(mayDeliver(muted, { ...reply, kind: 'mention' }, 'inApp', PARIS_2330).ok).toBe(true)

    const quiet = effectivePreferences({ quietHours })
    expect(mayDeliver(quiet, reply, 'push', PARIS_2330)).toEqual({ ok: false, error: { reason: 'quiet_hours', until: Date.UTC(2026, 11, 5, 6, 0) } })
    // Quiet hours hold push and email, never in-app, and never urgent notifications.
    expect(mayDeliver(quiet, reply, 'inApp', PARIS_2330).ok).toBe(true)
    expect(mayDeliver(quiet, { ...reply, priority: 'urgent' }, 'push', PARIS_2330).ok).toBe(true)

    const off = effectivePreferences({ kinds: { reply: { inApp: false } } })
    expect(mayDeliver(off, reply, 'inApp', PARIS_2330)).toEqual({ ok: false, error: { reason: 'channel_off' } })
  })
})
