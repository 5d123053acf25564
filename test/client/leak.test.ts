import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { sdkClient } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** Subjects opened and closed. */
const SUBJECTS = 1_000
/** Opened at the same time. */
const BATCH = 50

describe('clean-up', () => {
  let s: TestServer
  let client: ParleyClient
  afterEach(async () => {
    await client.close()
    await s.dispose()
  })

  it(`opening and closing ${SUBJECTS} subjects returns listeners, providers and server documents to their starting counts`, async () => {
    s = await startServer()
    client = await sdkClient(s, 'ana')
    // Warm up: one subject opened and closed, so that lazily created listeners exist at the start.
    const warm = client.comments('warm-up')
    await warm.whenSynced()
    warm.close()
    await waitFor(() => s.server.hocuspocus.getDocumentsCount() === 0, 'warm-up unloaded')
    const start = client.diagnostics()
    const startDocs = s.server.hocuspocus.getDocumentsCount()

    for (let i = 0; i < SUBJECTS; i += BATCH) {
      const handles = Array.from({ length: BATCH }, (_, j) => client.comments(`leak-${i + j}`))
      await Promise.all(handles.map((h) => h.whenSynced()))
      handles[0]!.observe(() => undefined)
      handles[0]!.createThread('one write per batch')
      for (const h of handles) h.close()
    }

    expect(client.diagnostics()).toEqual(start)
    await waitFor(() => s.server.hocuspocus.getDocumentsCount() === startDocs, 'the server unloaded every document', 20_000)
    expect(s.server.hocuspocus.getConnectionsCount()).toBe(0)
  }, 90_000)
})
