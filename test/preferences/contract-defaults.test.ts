/**
 * Contract additions, "Notification kinds and who hears them" and "Preferences", to the letter: the
 * default channels of every kind and the default digest window, as literals from the contract's
 * table (not the code's own constants, so a wrong default fails here). Both backends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { BACKENDS } from '../access/backends.ts'
import { rest } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'

/** The contract's table: kind → default channels. */
const CONTRACT_DEFAULTS = {
  mention: { inApp: true, push: true, email: true },
  reply: { inApp: true, push: true, email: false },
  thread: { inApp: true, push: false, email: false },
  comment: { inApp: true, push: false, email: false },
  reaction: { inApp: true, push: false, email: false },
  moderation: { inApp: true, push: true, email: true },
}

describe.each(BACKENDS)('preference defaults per the contract ($name)', (backend) => {
  let s: TestServer | undefined
  afterEach(async () => {
    await s?.dispose()
    s = undefined
  })

  it('GET answers the contract’s channels per kind, a 300 s digest, nothing muted, no quiet hours; a PUT of one channel keeps the rest', async () => {
    s = await backend.startServer()
    const ana = await s.token('ana')
    const answer = await rest(s, 'GET', '/api/v1/preferences', { bearer: ana })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ kinds: CONTRACT_DEFAULTS, digestSeconds: 300, mutedSubjects: [], quietHours: null })
    const put = await rest(s, 'PUT', '/api/v1/preferences', { bearer: ana, json: { kinds: { thread: { push: true } } } })
    expect(put.status).toBe(200)
    expect(put.body).toEqual({
      kinds: { ...CONTRACT_DEFAULTS, thread: { inApp: true, push: true, email: false } },
      digestSeconds: 300,
      mutedSubjects: [],
      quietHours: null,
    })
  })
})
