/**
 * The set-up the Redis drills share: a redis-server the test owns, a PostgreSQL schema, and two
 * Parley child processes linked by both; and the tear-down of all that, writers and watchers included.
 */
import { rmSync } from 'node:fs'
import { startChild, type ChildServer } from './child.ts'
import { closeWriters, type Writer } from './drill.ts'
import { startOwnedRedis, type OwnedRedis } from './owned-redis.ts'
import { createTestSchema, type TestSchema } from './postgres.ts'
import type { TestClient } from './provider.ts'
import { tempDir } from './server.ts'
import { newSecret } from './tokens.ts'

export interface RedisDrill {
  redis: OwnedRedis
  schema: TestSchema
  secret: string
  one: ChildServer
  two: ChildServer
  /** Closed by {@link RedisDrill.dispose}. */
  writers: Writer[]
  watchers: TestClient[]
  dispose(): Promise<void>
}

/** Starts the two instances; with `redisDown`, Redis is stopped before they start. */
export async function startRedisDrill(options: { redisDown?: boolean } = {}): Promise<RedisDrill> {
  const redis = await startOwnedRedis()
  if (options.redisDown) await redis.stop()
  const schema = await createTestSchema()
  const secret = newSecret()
  const dirs: string[] = []
  const env = () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    return { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: schema.url, REDIS_URL: redis.url }
  }
  const [one, two] = await Promise.all([startChild(env()), startChild(env())])
  const drill: RedisDrill = {
    redis,
    schema,
    secret,
    one,
    two,
    writers: [],
    watchers: [],
    async dispose() {
      for (const watcher of drill.watchers.splice(0)) watcher.destroy()
      await closeWriters(drill.writers.splice(0))
      for (const instance of [one, two]) instance.process.kill('SIGKILL')
      await Promise.all([one.exited, two.exited])
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
      await redis.dispose()
      await schema.drop()
    },
  }
  return drill
}
