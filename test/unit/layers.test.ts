/**
 * The one-way layers (issue 14; docs/ARCHITECTURE.md "Layers") are lint rules (eslint.layers.js,
 * part of `npm run lint`): a reverse import fails CI. These feed ESLint an import as if written in
 * each folder and check that the rule catches the reverse ones and lets the allowed ones through.
 */
import path from 'node:path'
import { ESLint } from 'eslint'
import tseslint from 'typescript-eslint'
import { describe, expect, it } from 'vitest'
import { layerRules } from '../../eslint.layers.js'
import { ROOT } from '../helpers/child.ts'

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layerRules],
})

/** The layer-rule messages for `source` written in `file`. */
async function layerErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) })
  return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message)
}

describe('layers point one way', () => {
  it.each([
    ['core/guard/new.ts', "import { createParleyServer } from '../../server/server.ts'", 'core/ may not import'],
    ['core/events.ts', "import { Guard } from '../extensions/guard/index.ts'", 'core/ may not import'],
    ['extensions/guard/new.ts', "import { loadConfig } from '../../server/config.ts'", 'extensions/ may not import'],
    ['client/new.ts', "import type { Storage } from '../core/storage/types.ts'", 'client/ may not import'],
    ['protocol/new.ts', "export { LOAD_ORIGIN } from '../core/origins.ts'", 'protocol/ may not import'],
  ])('%s: %s is refused', async (file, source, message) => {
    const errors = await layerErrors(file, `${source}\n`)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(message)
  })

  it.each([
    ['server/new.ts', "import { Guard } from '../extensions/guard/index.ts'\nimport type { Storage } from '../core/storage/types.ts'"],
    ['extensions/guard/new.ts', "import { judgeUpdate } from '../../core/guard/judge.ts'\nimport { ErrorCode } from '../../protocol/index.ts'"],
    ['core/guard/new.ts', "import { ErrorCode } from '../../protocol/index.ts'\nimport * as Y from 'yjs'"],
    ['client/new.ts', "import { ErrorCode } from '../protocol/index.ts'"],
  ])('%s: allowed imports pass', async (file, source) => {
    expect(await layerErrors(file, `${source}\n`)).toEqual([])
  })
})
