/** Runs in every test file (vitest.config.ts setupFiles): no child process outlives its file. */
import { afterAll } from 'vitest'
import { killTrackedChildren } from './child.ts'

afterAll(killTrackedChildren)
