/**
 * PROTOCOL §Presence, `GET /v1/users/:id/presence`: the in-memory registry counts a user online
 * while any of their connections is open, however many there are and in whatever order they close.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryRegistry } from '../../core/presence/registry.ts'

describe('memory presence registry: a user is online while a connection is open', () => {
  it('follows one connection, several, repeats and a close of one never opened', async () => {
    let clock = 1_000
    const registry = createMemoryRegistry({ now: () => clock })
    const online = async () => (await registry.user('ana')).online
    expect(await online()).toBe(false)
    registry.connected('ana', 'comments/a', 's1')
    expect(await online()).toBe(true)
    registry.connected('ana', 'comments/a', 's1')
    registry.connected('ana', 'comments/b', 's1')
    registry.connected('ana', 'comments/a', 's2')
    registry.disconnected('ana', 'comments/a', 's1')
    registry.disconnected('ana', 'comments/zzz', 's9')
    expect(await online()).toBe(true)
    registry.disconnected('ana', 'comments/b', 's1')
    expect(await online()).toBe(true)
    registry.disconnected('ana', 'comments/a', 's2')
    expect(await online()).toBe(false)
    registry.disconnected('ana', 'comments/a', 's2')
    expect(await online()).toBe(false)
    // Back with one connection, then its twin key closes twice: offline once, never negative.
    registry.connected('ana', 'comments/a', 's3')
    clock += 10
    expect(await registry.user('ana')).toEqual({ online: true, lastSeenAt: 1_000 })
    registry.disconnected('ana', 'comments/a', 's3')
    registry.connected('ana', 'comments/a', 's4')
    expect(await online()).toBe(true)
  })
})
