import { describe, expect, it } from 'vitest'
import { decideAccess, roleFromAccessClaim } from '../../core/auth/access.ts'

describe('roles from the access claim', () => {
  it('matches exact names and prefixes ending in *, taking the highest', () => {
    const access = { 'comments/a': 'read', 'comments/*': 'comment', '*': 'read', 'comments/mod-*': 'moderate' } as const
    expect(roleFromAccessClaim(access, 'comments/a')).toBe('comment')
    expect(roleFromAccessClaim(access, 'comments/mod-1')).toBe('moderate')
    expect(roleFromAccessClaim(access, 'feed/x')).toBe('read')
    expect(roleFromAccessClaim({ 'comments/a': 'comment' }, 'comments/ab')).toBeNull()
    expect(roleFromAccessClaim(undefined, 'comments/a')).toBeNull()
  })
})

describe('decideAccess', () => {
  const base = { userId: 'ana', access: undefined, devMode: false }
  it('gives read-only comment connections for the read role', () => {
    expect(decideAccess({ ...base, documentName: 'comments/x', access: { '*': 'read' } })).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
    expect(decideAccess({ ...base, documentName: 'comments/x', access: { '*': 'comment' } })).toEqual({ ok: true, value: { role: 'comment', readOnly: false } })
  })
  it('gives dev mode comment on subjects, read on feeds, never another inbox', () => {
    expect(decideAccess({ ...base, devMode: true, documentName: 'comments/x' })).toEqual({ ok: true, value: { role: 'comment', readOnly: false } })
    expect(decideAccess({ ...base, devMode: true, documentName: 'comments/x', access: { '*': 'moderate' } })).toMatchObject({ value: { role: 'moderate' } })
    expect(decideAccess({ ...base, devMode: true, documentName: 'inbox/ben' })).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(decideAccess({ ...base, devMode: true, documentName: 'feed/news' })).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
  })
  it('always grants the own inbox (writable, the guard limits it to read markers) and personal feed (read-only)', () => {
    expect(decideAccess({ ...base, documentName: 'inbox/ana' })).toMatchObject({ ok: true, value: { role: 'read', readOnly: false } })
    expect(decideAccess({ ...base, documentName: 'feed/user:ana' })).toMatchObject({ ok: true, value: { readOnly: true } })
  })
  it('keeps feeds read-only even for moderators', () => {
    expect(decideAccess({ ...base, documentName: 'feed/news', access: { '*': 'moderate' } })).toEqual({ ok: true, value: { role: 'read', readOnly: true } })
  })
  it('refuses names outside the contract', () => {
    for (const name of ['comments/', 'comments', 'other/x', 'comments/a/b', `comments/${'x'.repeat(129)}`]) {
      expect(decideAccess({ ...base, documentName: name, access: { '*': 'moderate' } })).toMatchObject({ ok: false, error: { code: 'invalid_document_name' } })
    }
  })
})
