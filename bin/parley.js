#!/usr/bin/env node
// `npm start` and `npm run token`, in a checkout and in the installed package alike: the CLI from
// its TypeScript source where that is present (a checkout: Node strips the types) and from the
// compiled dist/ otherwise (the packed package holds dist/ and this file, not the source).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const source = path.join(import.meta.dirname, '../server/bin/parley.ts')
await import(existsSync(source) ? pathToFileURL(source).href : '../dist/server/bin/parley.js')
