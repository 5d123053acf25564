/**
 * Contract additions, "Delivery": `GET /api/v1/deliveries?status=dead&limit=&cursor=` (backend)
 * pages through the deliveries of one status, most recent change first, with a cursor until
 * `nextCursor` is null; bad queries are 400 invalid_request, users 401. Both backends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { deliveryId, type DeliveryRecord, type DeliveryStatus } from '../../core/delivery/deliveries.ts'
import { BACKENDS } from '../access/backends.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'

interface Page {
  deliveries: Array<{ id: string; status: string; updatedAt: number; userId: string; notificationId: string; deviceId: string | null }>
  nextCursor: string | null
}

function delivery(n: number, status: DeliveryStatus, updatedAt: number): DeliveryRecord {
  const deviceId = `d_${n}`
  return {
    id: deliveryId('ben', `m_${n}`, 'push', deviceId),
    userId: 'ben',
    notificationId: `m_${n}`,
    channel: 'push',
    deviceId,
    status,
    reason: 'x',
    attempts: 8,
    round: 1,
    updatedAt,
  }
}

describe.each(BACKENDS)('dead deliveries, paged ($name)', (backend) => {
  let s: TestServer
  afterEach(async () => {
    await s.dispose()
  })

  it('pages most recent first with limit and cursor, one status only; refuses bad queries', async () => {
    s = await backend.startServer({ apiKey: TEST_API_KEY })
    // Five dead ones (two changed at the same time), and two sent ones in between.
    const dead = [delivery(1, 'dead', 1_000), delivery(2, 'dead', 3_000), delivery(3, 'dead', 3_000), delivery(4, 'dead', 5_000), delivery(5, 'dead', 2_000)]
    for (const d of [...dead, delivery(6, 'sent', 4_000), delivery(7, 'sent', 6_000)]) await s.server.storage.deliveries.put(d)
    const expectedOrder = [...dead].sort((a, b) => b.updatedAt - a.updatedAt || a.id.localeCompare(b.id)).map((d) => d.id)

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = `/api/v1/deliveries?status=dead&limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const answer = await rest<Page>(s, 'GET', query, { bearer: TEST_API_KEY })
      expect(answer.status).toBe(200)
      expect(answer.body.deliveries.every((d) => d.status === 'dead')).toBe(true)
      seen.push(...answer.body.deliveries.map((d) => d.id))
      cursor = answer.body.nextCursor
      pages++
    } while (cursor !== null && pages < 10)
    expect(seen).toEqual(expectedOrder)
    expect(pages).toBe(3)

    // The status defaults to dead; another status lists only its own.
    expect((await rest<Page>(s, 'GET', '/api/v1/deliveries', { bearer: TEST_API_KEY })).body.deliveries.map((d) => d.id)).toEqual(expectedOrder)
    const sent = await rest<Page>(s, 'GET', '/api/v1/deliveries?status=sent', { bearer: TEST_API_KEY })
    expect(sent.body).toMatchObject({ nextCursor: null, deliveries: [{ notificationId: 'm_7' }, { notificationId: 'm_6' }] })

    for (const query of ['?status=gone', '?limit=0', '?limit=201', '?cursor=nope', '?colour=blue']) {
      const answer = await rest(s, 'GET', `/api/v1/deliveries${query}`, { bearer: TEST_API_KEY })
      expect([answer.status, codeOf(answer)], query).toEqual([400, 'invalid_request'])
    }
    expect((await rest(s, 'GET', '/api/v1/deliveries', { bearer: await s.token('ben') })).status).toBe(401)
  })
})
