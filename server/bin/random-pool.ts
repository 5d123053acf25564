/** Installs the random pool (server/runtime/random-pool.ts) before anything loads Yjs: the first import of the `parley` command. */
import { installRandomPool } from '../runtime/random-pool.ts'

installRandomPool()
