/**
 * Issue 23: the demo in a real browser. A real Parley server in dev mode (port 0) serves the demo
 * built by Vite; two Chromium contexts are two users, alice (A) and bob (B), on one subject.
 */
import { rmSync } from 'node:fs'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { buildDemo, launchChromium, screenshot, storedUpdates } from './browser.ts'

/** What the demo must show within: the "within a second" for the mention badge, more for the rest. */
const BADGE_WITHIN_MS = 1_000
const STEP_MS = 10_000
const SUBJECT = 'launch-plan'

let server: TestServer
let browser: Browser
let demoDir: string
const contexts: BrowserContext[] = []
/** Every URL the pages asked for (HTTP and WebSocket): all of them must be Parley's. */
const requested: string[] = []

beforeAll(async () => {
  demoDir = tempDir('parley-demo-build-')
  await buildDemo(demoDir)
  server = await startServer({ jwt: { kind: 'dev' }, demoDir })
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  for (const context of contexts) await context.close()
  await browser?.close()
  await server?.dispose()
  rmSync(demoDir, { recursive: true, force: true })
})

async function open(userId: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } })
  contexts.push(context)
  const page = await context.newPage()
  page.on('request', (request) => requested.push(request.url()))
  page.on('websocket', (socket) => requested.push(socket.url()))
  await page.goto(`http://127.0.0.1:${server.server.port}/?user=${userId}&subject=${SUBJECT}`)
  await page.waitForSelector('body[data-ready=true]', { timeout: STEP_MS })
  return page
}

/** The texts of the subject's first thread as the server has them (`GET …/threads`, as bob). */
async function serverTexts(): Promise<string[]> {
  const token = await server.server.devToken('bob')
  const response = await fetch(`${server.server.httpUrl}/api/v1/subjects/${SUBJECT}/threads`, { headers: { authorization: `Bearer ${token}` } })
  const body = (await response.json()) as { threads: Array<{ comments: Array<{ text: string }> }> }
  return body.threads[0]?.comments.map((c) => c.text) ?? []
}

/** Waits until `locator`'s text is exactly `text` (or matches it). */
async function hasText(locator: Locator, text: string | RegExp, timeout = STEP_MS): Promise<void> {
  const pattern = typeof text === 'string' ? new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : text
  await locator.filter({ hasText: pattern }).first().waitFor({ timeout })
}

describe('the demo in two Chromium windows', () => {
  it('two users talk: mention, typing, reactions, resolve, feed, offline across a reload', async () => {
    const a = await open('alice')
    const b = await open('bob')
    await hasText(a.getByTestId('status'), 'connected')
    await hasText(b.getByTestId('status'), 'connected')
    // Both are present: each window shows two avatars.
    await a.locator('[data-testid=avatars] [data-user=bob]').waitFor({ timeout: STEP_MS })
    await b.locator('[data-testid=avatars] [data-user=alice]').waitFor({ timeout: STEP_MS })

    // B follows the subject, so that its activity reaches B's feed.
    await b.locator('button.follow').click()
    await hasText(b.locator('button.follow'), 'Unfollow')
    await hasText(b.getByTestId('sending'), 'sending 0')
    await screenshot(a, '01-alice-ready')

    // A starts a thread mentioning B, picked from the directory's autocomplete.
    const compose = a.locator('[data-testid=new-thread] input')
    await compose.pressSequentially('Can you review the launch plan, @bo')
    await a.locator('.suggestions li[data-user=bob]').click()
    await compose.pressSequentially('?')
    expect(await compose.inputValue()).toBe('Can you review the launch plan, @bob ?')
    await screenshot(a, '02-alice-mentions-bob')
    const sentAt = Date.now()
    await compose.press('Enter')
    await hasText(b.getByTestId('unseen'), '1', BADGE_WITHIN_MS)
    const badgeMs = Date.now() - sentAt
    console.log(`B's unseen badge went up ${badgeMs} ms after A sent the mention`)
    await hasText(b.getByTestId('unread'), '1')
    const thread = b.locator('.thread').first()
    await thread.locator('.mention', { hasText: '@bob' }).waitFor({ timeout: STEP_MS })
    await screenshot(b, '03-bob-badge')

    // B's feed shows A's thread (the thread batch window is 1 s).
    await hasText(b.locator('.feed-item[data-type=thread] p'), /alice|Alice/)
    await screenshot(b, '04-bob-feed')

    // A's typing shows for B.
    const replyA = a.locator('.thread').first().locator('.composer-input')
    await replyA.pressSequentially('Also the')
    await hasText(thread.locator('.typing'), 'Alice is typing…')
    await b.locator('[data-testid=avatars] [data-user=alice].typing').waitFor({ timeout: STEP_MS })
    await screenshot(b, '05-bob-sees-alice-typing')
    await replyA.press('Enter')
    await hasText(thread.locator('.comment .body').nth(1), 'Also the')
    await hasText(thread.locator('.typing'), '')

    // B opens the inbox (seen) and marks the mention read.
    await b.locator('.inbox summary').click()
    await hasText(b.getByTestId('unseen'), '0')
    await b.locator('.notification button.mark-read').click()
    await hasText(b.getByTestId('unread'), '0')

    // A reaction (B) and a resolve (A) show on both sides.
    await thread.locator('.comment').first().locator('button.reaction[data-emoji="👍"]').click()
    const threadA = a.locator('.thread').first()
    for (const page of [a, b])
      await hasText(page.locator('.thread').first().locator('.comment').first().locator('button.reaction[data-emoji="👍"]'), '👍 Like 1')
    await threadA.locator('button.resolve').click()
    for (const page of [a, b]) await hasText(page.locator('.thread').first().locator('.state'), '✔ Resolved by alice')
    await screenshot(b, '06-bob-reaction-resolved')

    // Edit and delete reach B too.
    await threadA.locator('.comment').nth(1).locator('button.edit').click()
    await threadA.locator('.edit-input').fill('Also the budget')
    await threadA.locator('.edit-input').press('Enter')
    await hasText(thread.locator('.comment .body').nth(1), 'Also the budget')
    await hasText(thread.locator('.comment .meta').nth(1), /\(edited\)$/)
    await threadA.locator('.comment').nth(1).locator('button.delete').click()
    await hasText(thread.locator('.comment .body').nth(1), 'deleted')

    // A goes offline, comments, reloads: the comment waits in IndexedDB until A is back online,
    // and the status bar counts it as sending before and after the reload.
    await a.getByTestId('offline').check()
    await hasText(a.getByTestId('status'), 'offline')
    const storedBefore = await storedUpdates(a, 'alice')
    await replyA.pressSequentially('Written offline')
    await replyA.press('Enter')
    await hasText(a.getByTestId('sending'), /^sending [1-9]/)
    // The change is on the device before the page goes away.
    await waitFor(async () => (await storedUpdates(a, 'alice')) > storedBefore, 'the offline comment stored in IndexedDB', STEP_MS)
    await a.reload()
    await a.waitForSelector('body[data-ready=true]', { timeout: STEP_MS })
    await hasText(a.getByTestId('status'), 'offline')
    expect(await a.getByTestId('offline').isChecked()).toBe(true)
    await hasText(a.locator('.thread').first().locator('.comment .body').nth(2), 'Written offline')
    // The reload did not forget it: the stored comment the server has not acknowledged is still sending.
    await hasText(a.getByTestId('sending'), 'sending 1')
    await screenshot(a, '07-alice-offline-after-reload')
    // Nothing left the page: the server and B have A's earlier comments but not the offline one.
    expect(await serverTexts()).toEqual(['Can you review the launch plan, @bob ?', ''])
    expect(await thread.locator('.comment').count()).toBe(2)
    expect(await thread.locator('.comment .body', { hasText: 'Written offline' }).count()).toBe(0)

    await a.getByTestId('offline').uncheck()
    await hasText(a.getByTestId('status'), 'connected')
    await hasText(thread.locator('.comment .body').nth(2), 'Written offline')
    await hasText(a.getByTestId('sending'), 'sending 0')
    expect(await serverTexts()).toEqual(['Can you review the launch plan, @bob ?', '', 'Written offline'])
    // A is present for B again.
    await b.locator('[data-testid=avatars] [data-user=alice]').waitFor({ timeout: STEP_MS })
    await screenshot(b, '08-bob-sees-offline-comment')
    await screenshot(a, '09-alice-back-online')

    // Nothing was loaded from anywhere but the Parley server.
    const { port } = server.server
    expect(requested.length).toBeGreaterThan(0)
    expect(requested.filter((url) => !url.startsWith(`http://127.0.0.1:${port}/`) && !url.startsWith(`ws://127.0.0.1:${port}`))).toEqual([])
  }, 80_000)
})
