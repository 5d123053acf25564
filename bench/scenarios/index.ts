/**
 * Every scenario, in the order `npm run bench` runs them. A new scenario is one file in this
 * folder exporting a `Scenario` (bench/lib/types.ts) and one line here.
 */
import type { Scenario } from '../lib/types.ts'
import { activity } from './activity.ts'
import { cluster } from './cluster.ts'
import { connections } from './connections.ts'
import { durableWrites } from './durable-writes.ts'
import { fanout } from './fanout.ts'
import { feeds } from './feeds.ts'
import { flood } from './flood.ts'
import { joinStorm } from './join-storm.ts'
import { mentions } from './mentions.ts'
import { presence } from './presence.ts'
import { search } from './search.ts'
import { soak } from './soak.ts'

export const SCENARIOS: readonly Scenario[] = [fanout, connections, joinStorm, durableWrites, presence, mentions, activity, search, feeds, flood, soak, cluster]

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name)
}
