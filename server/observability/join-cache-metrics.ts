/** Prometheus counter of the join cache: how each rewritten join was answered. */
import { Counter, type Registry } from 'prom-client'
import type { JoinCacheMetrics } from '../../extensions/join-cache/index.ts'

export function createJoinCacheMetrics(registry: Registry, hookError: (hook: string) => void): JoinCacheMetrics {
  const answers = new Counter({
    name: 'parley_join_cache_answers_total',
    help: 'Fresh joiners of a large document, by how their whole document was sent (hit, miss: encoded now, fallback: by Hocuspocus)',
    labelNames: ['result'],
    registers: [registry],
  })
  return {
    answered: (result) => answers.inc({ result }),
    hookError,
  }
}
