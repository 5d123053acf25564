/** `parley reindex [subjectId]`: rebuilds the search index from stored documents, printing progress. */
import { isValidId } from '../../protocol/index.ts'
import type { ParleyConfig } from '../config.ts'
import { reindex } from '../search/reindex.ts'
import { openStorage } from '../storage/open.ts'

export async function reindexCommand(config: ParleyConfig, args: string[]): Promise<void> {
  if (args.length > 1) throw new Error('usage: parley reindex [subjectId]')
  const subjectId = args[0] ?? null
  if (subjectId !== null && !isValidId(subjectId)) throw new Error(`"${subjectId}" is not a subject id`)
  const storage = await openStorage({ ...config, logLevel: 'warn' })
  const started = performance.now()
  try {
    const result = await reindex(storage, subjectId, (p) => {
      console.log(`reindex: ${p.done}/${p.total} ${p.documentName}: ${p.entries} comments`)
    })
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(`reindex: done, ${result.documents} documents, ${result.entries} comments indexed in ${seconds} s`)
  } finally {
    await storage.close()
  }
}
