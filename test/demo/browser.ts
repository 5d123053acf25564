/**
 * The demo's browser test kit: builds the demo with Vite into a temporary directory, launches
 * Debian's Chromium through playwright-core, and takes screenshots under test/artifacts/demo/.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build } from 'vite'

/** Debian's Chromium (`.ci/run` installs it with apt-get when missing). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags that keep Chromium headless, sandbox-free (containers) and off the network. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Where the screenshots of each step go (ignored by git). */
export const ARTIFACTS_DIR = path.join(repoRoot, 'test/artifacts/demo')

/** Builds the demo (demo/vite.config.ts) into `outDir`. */
export async function buildDemo(outDir: string): Promise<void> {
  await build({ configFile: path.join(repoRoot, 'demo/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } })
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS })
}

/** Saves a screenshot of `page` as test/artifacts/demo/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`) })
}

/** Records of the demo's IndexedDB store (`parley-demo-<userId>`): the local updates kept on the device. */
export function storedUpdates(page: Page, userId: string): Promise<number> {
  return page.evaluate(
    (name) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(name)
        open.onerror = () => reject(new Error(String(open.error)))
        open.onsuccess = () => {
          const db = open.result
          const count = db.transaction('updates', 'readonly').objectStore('updates').count()
          count.onsuccess = () => {
            resolve(count.result)
            db.close()
          }
          count.onerror = () => reject(new Error(String(count.error)))
        }
      }),
    `parley-demo-${userId}`,
  )
}
