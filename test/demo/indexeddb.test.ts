/**
 * The SDK's IndexedDB store (client/stores/indexeddb.ts) in Chromium's real IndexedDB, not only
 * under fake-indexeddb: bundled by Vite for the browser, kept across a page reload, compacted
 * past its threshold, one document cleared without the others.
 */
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/server.ts'
import { launchChromium } from './browser.ts'
import type { IdbKit } from './idb-entry.ts'

/** A made-up origin the test answers itself (IndexedDB needs one; nothing goes to the network). */
const ORIGIN = 'http://parley-idb.test'
const DOCUMENT_TIMEOUT_MS = 10_000

let browser: Browser
let bundle: string

beforeAll(async () => {
  const outDir = tempDir('parley-idb-build-')
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      build: {
        outDir,
        emptyOutDir: true,
        lib: { entry: fileURLToPath(new URL('idb-entry.ts', import.meta.url)), formats: ['iife'], name: 'parleyIdbBundle', fileName: () => 'idb.js' },
      },
    })
    bundle = readFileSync(path.join(outDir, 'idb.js'), 'utf8')
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
})

/** A page on {@link ORIGIN} with the bundle loaded. */
async function load(page: Page): Promise<void> {
  await page.goto(`${ORIGIN}/`, { timeout: DOCUMENT_TIMEOUT_MS })
  await page.addScriptTag({ content: bundle })
}

async function openPage(): Promise<Page> {
  const context = await browser.newContext()
  await context.route(`${ORIGIN}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>idb</title>' }))
  const page = await context.newPage()
  await load(page)
  return page
}

/** Appends `count` updates of a text (`0,1,2,…`) to `doc` in the store `db`; resolves with the text. */
function appendText(page: Page, db: string, doc: string, count: number): Promise<string> {
  return page.evaluate(
    async ({ db, doc, count }) => {
      const { Y, IndexedDbStore } = (globalThis as unknown as { parleyIdb: IdbKit }).parleyIdb
      const store = new IndexedDbStore(db)
      const ydoc = new Y.Doc()
      const writes: Array<Promise<void>> = []
      ydoc.on('update', (update: Uint8Array) => writes.push(store.append(doc, update)))
      for (let i = 0; i < count; i++) ydoc.getText('t').insert(ydoc.getText('t').length, `${i},`)
      await Promise.all(writes)
      await store.close()
      return ydoc.getText('t').toString()
    },
    { db, doc, count },
  )
}

/** What the store holds for `doc`, as text, and how many records the database has for it. */
function readBack(page: Page, db: string, doc: string): Promise<{ text: string | null; records: number }> {
  return page.evaluate(
    async ({ db, doc }) => {
      const { Y, IndexedDbStore } = (globalThis as unknown as { parleyIdb: IdbKit }).parleyIdb
      const store = new IndexedDbStore(db)
      const state = await store.load(doc)
      await store.close()
      const records = await new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(db)
        open.onerror = () => reject(new Error(String(open.error)))
        open.onsuccess = () => {
          const count = open.result.transaction('updates', 'readonly').objectStore('updates').index('doc').count(doc)
          count.onsuccess = () => {
            resolve(count.result)
            open.result.close()
          }
        }
      })
      if (!state) return { text: null, records }
      const ydoc = new Y.Doc()
      Y.applyUpdate(ydoc, state)
      return { text: ydoc.getText('t').toString(), records }
    },
    { db, doc },
  )
}

describe("the SDK's IndexedDB store in Chromium", () => {
  it('keeps updates across a page reload, compacted past its threshold', async () => {
    const page = await openPage()
    const threshold = await page.evaluate(() => (globalThis as unknown as { parleyIdb: IdbKit }).parleyIdb.IDB_COMPACT_AFTER)
    const written = await appendText(page, 'reload', 'comments/a', threshold + 20)
    await page.reload()
    await load(page)
    const back = await readBack(page, 'reload', 'comments/a')
    expect(back.text).toBe(written)
    // Compaction merged the first `threshold` records into one: far fewer records than updates.
    expect(back.records).toBeGreaterThan(0)
    expect(back.records).toBeLessThan(threshold)
    await page.context().close()
  })

  it('clears one document and keeps the others', async () => {
    const page = await openPage()
    const kept = await appendText(page, 'clear', 'comments/keep', 3)
    await appendText(page, 'clear', 'comments/drop', 3)
    await page.evaluate(async () => {
      const store = new (globalThis as unknown as { parleyIdb: IdbKit }).parleyIdb.IndexedDbStore('clear')
      await store.clear('comments/drop')
      await store.close()
    })
    expect(await readBack(page, 'clear', 'comments/drop')).toEqual({ text: null, records: 0 })
    expect((await readBack(page, 'clear', 'comments/keep')).text).toBe(kept)
    await page.context().close()
  })
})
