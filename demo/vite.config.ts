/**
 * Builds the demo for the browser: `npm run build:demo` writes `dist/demo/`, which Parley serves
 * at `/` in dev mode (server/http/demo.ts). The SDK is bundled from its sources (client/).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  // Served at `/` by Parley: assets under `/assets/`.
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
})
