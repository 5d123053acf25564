/** core/auth/access.ts for feeds: `feed/subject:<id>` is read by whoever may read the subject; feeds are never writable. */
import { describe, expect, it } from 'vitest'
import { decideAccess } from '../../core/auth/access.ts'

const decide = (
  documentName: string,
  extra: { access?: Record<string, 'read' | 'comment' | 'moderate'>; storedRole?: 'read' | null; devMode?: boolean } = {},
) => decideAccess({ userId: 'ben', documentName, access: extra.access, devMode: extra.devMode ?? false, storedRole: extra.storedRole ?? null })

describe('feed access', () => {
  it('feed/subject:<id> follows the subject: stored role or a claim on comments/<id>', () => {
    expect(decide('feed/subject:s1', { storedRole: 'read' })).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(decide('feed/subject:s1', { access: { 'comments/s1': 'moderate' } })).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(decide('feed/subject:s1', { access: { 'comments/s2': 'comment' } })).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(decide('feed/subject:s1')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
  })

  it('the own personal feed is always readable, another user’s only by claim, never writable', () => {
    expect(decide('feed/user:ben')).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(decide('feed/user:ana')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(decide('feed/user:ana', { access: { 'feed/*': 'moderate' } })).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
  })
})
