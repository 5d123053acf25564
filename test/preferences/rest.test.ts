/**
 * Contract additions, "Preferences": `GET`/`PUT /api/v1/preferences` on both backends: defaults
 * for every kind, merge on PUT, validation with clear 400s, one user's preferences never another's,
 * and `PARLEY_DIGEST_SECONDS` as the default digest window.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_CHANNELS, DEFAULT_DIGEST_SECONDS, type Preferences } from '../../core/notifications/preferences.ts'
import { BACKENDS } from '../access/backends.ts'
import { codeOf, rest } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'

describe.each(BACKENDS)('preferences over REST ($name)', (backend) => {
  let s: TestServer | undefined
  afterEach(async () => {
    await s?.dispose()
    s = undefined
  })

  it('answers every kind with its default channels before anything is set', async () => {
    s = await backend.startServer()
    const answer = await rest<Preferences>(s, 'GET', '/api/v1/preferences', { bearer: await s.token('ana') })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ kinds: DEFAULT_CHANNELS, digestSeconds: DEFAULT_DIGEST_SECONDS, mutedSubjects: [], quietHours: null })
  })

  it('merges a PUT: fields and channels left out keep their value; null clears quiet hours', async () => {
    s = await backend.startServer()
    const ana = await s.token('ana')
    const quietHours = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' }
    const first = await rest<Preferences>(s, 'PUT', '/api/v1/preferences', {
      bearer: ana,
      json: { kinds: { reply: { push: false } }, quietHours, digestSeconds: 60 },
    })
    expect(first.status).toBe(200)
    expect(first.body.kinds.reply).toEqual({ inApp: true, push: false, email: false })
    expect(first.body.kinds.mention).toEqual(DEFAULT_CHANNELS.mention)
    const second = await rest<Preferences>(s, 'PUT', '/api/v1/preferences', {
      bearer: ana,
      json: { kinds: { reply: { email: true } }, mutedSubjects: ['s1', 's2', 's1'] },
    })
    expect(second.body).toMatchObject({ digestSeconds: 60, quietHours, mutedSubjects: ['s1', 's2'] })
    expect(second.body.kinds.reply).toEqual({ inApp: true, push: false, email: true })
    const cleared = await rest<Preferences>(s, 'PUT', '/api/v1/preferences', { bearer: ana, json: { quietHours: null } })
    expect(cleared.body).toMatchObject({ quietHours: null, digestSeconds: 60, mutedSubjects: ['s1', 's2'] })
    // What GET answers is what PUT answered; another user still has the defaults.
    expect((await rest(s, 'GET', '/api/v1/preferences', { bearer: ana })).body).toEqual(cleared.body)
    expect((await rest<Preferences>(s, 'GET', '/api/v1/preferences', { bearer: await s.token('ben') })).body.kinds.reply).toEqual(DEFAULT_CHANNELS.reply)
  })

  it('refuses unknown kinds or channels and invalid values with 400 invalid_request, changing nothing', async () => {
    s = await backend.startServer()
    const ana = await s.token('ana')
    const invalid: Array<[unknown, RegExp]> = [
      [{ kinds: { poke: { inApp: false } } }, /poke/],
      [{ kinds: { reply: { sms: true } } }, /sms/],
      [{ kinds: { reply: { push: 'no' } } }, /kinds\.reply\.push/],
      [{ digestSeconds: -1 }, /digestSeconds/],
      [{ digestSeconds: 1.5 }, /digestSeconds/],
      [{ mutedSubjects: ['not an id'] }, /mutedSubjects/],
      [{ quietHours: { start: '25:00', end: '07:00', timeZone: 'Europe/Paris' } }, /quietHours\.start/],
      [{ quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } }, /IANA time zone/],
      [{ quietHours: { start: '22:00', end: '07:00' } }, /quietHours\.timeZone/],
      [{ colour: 'blue' }, /colour/],
    ]
    for (const [json, message] of invalid) {
      const answer = await rest<{ error: { message: string } }>(s, 'PUT', '/api/v1/preferences', { bearer: ana, json })
      expect(answer.status, JSON.stringify(json)).toBe(400)
      expect(codeOf(answer)).toBe('invalid_request')
      expect(answer.body.error.message, JSON.stringify(json)).toMatch(message)
    }
    expect((await rest(s, 'PUT', '/api/v1/preferences', { bearer: ana, raw: '{' })).status).toBe(400)
    expect((await rest(s, 'PUT', '/api/v1/preferences', { json: {} })).status).toBe(401)
    expect((await rest<Preferences>(s, 'GET', '/api/v1/preferences', { bearer: ana })).body.kinds).toEqual(DEFAULT_CHANNELS)
  })

  it('takes the default digest window from PARLEY_DIGEST_SECONDS', async () => {
    s = await backend.startServer({ digestSeconds: 42 })
    expect((await rest<Preferences>(s, 'GET', '/api/v1/preferences', { bearer: await s.token('ana') })).body.digestSeconds).toBe(42)
  })
})
