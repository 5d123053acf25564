/** Resolving a comment's mentions for listings (core/mentions/resolve.ts), as the detector does. */
import { describe, expect, it } from 'vitest'
import { cachedLookup, resolveMentions, type HandleLookup } from '../../core/mentions/resolve.ts'
import { MAX_MENTIONS_PER_COMMENT } from '../../core/notifications/mention-limits.ts'

const directory: Record<string, string> = { ana: 'u_ana', ben: 'u_ben', zoë: 'u_zoe' }
const lookup: HandleLookup = (handle) => Promise.resolve(directory[handle] ?? null)

describe('resolveMentions', () => {
  it('lists mention runs first, then the users plain handles name, each once', async () => {
    const runs = [{ text: 'hi ' }, { text: '@Ben', mention: 'u_ben' }, { text: ', @ANA and @ben (@zoë.) ana@example.com @nobody' }]
    expect(await resolveMentions(runs, lookup)).toEqual(['u_ben', 'u_ana', 'u_zoe'])
  })

  it('lists nothing for a body without mentions or with unknown handles only', async () => {
    expect(await resolveMentions([{ text: 'plain words, mail me@example.com, @ghost' }], lookup)).toEqual([])
    expect(await resolveMentions([], lookup)).toEqual([])
  })

  it('resolves only the first MAX_MENTIONS_PER_COMMENT distinct mentions, as notifications do', async () => {
    const asked: string[] = []
    const counting: HandleLookup = (handle) => {
      asked.push(handle)
      return Promise.resolve(`u_${handle}`)
    }
    const text = Array.from({ length: 500 }, (_, i) => `@h${i}`).join(' ')
    const resolved = await resolveMentions([{ text: '@x', mention: 'u_x' }, { text: ` ${text}` }], counting)
    expect(resolved).toHaveLength(MAX_MENTIONS_PER_COMMENT)
    expect(resolved[0]).toBe('u_x')
    expect(asked).toHaveLength(MAX_MENTIONS_PER_COMMENT - 1)
  })

  it('asks the directory once per handle through cachedLookup', async () => {
    const asked: string[] = []
    const cached = cachedLookup((handle) => {
      asked.push(handle)
      return lookup(handle)
    })
    await resolveMentions([{ text: '@ana @ben' }], cached)
    await resolveMentions([{ text: '@Ana again' }], cached)
    expect(asked).toEqual(['ana', 'ben'])
  })
})
