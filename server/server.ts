/**
 * `createParleyServer(config)`: Hocuspocus with Parley's extensions, HTTP routes and storage,
 * composed into one server that a CLI runs and a Node backend can embed.
 */
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { Hocuspocus, type Extension } from '@hocuspocus/server'
import { Authentication } from '../extensions/auth/index.ts'
import { COMPACT_AFTER_ROWS, Durability } from '../extensions/durability/index.ts'
import { Guard } from '../extensions/guard/index.ts'
import { JoinCache } from '../extensions/join-cache/index.ts'
import { InstanceLink } from '../extensions/instance.ts'
import { Metrics } from '../extensions/metrics/index.ts'
import { Presence } from '../extensions/presence/index.ts'
import { createAccessResolver } from '../core/access/resolve.ts'
import { createRevocation } from '../extensions/auth/revoke.ts'
import { loadOrCreateDevSecret } from './auth/dev-secret.ts'
import { devToken } from './auth/sign.ts'
import { cacheVerifiedTokens } from '../core/auth/verified-cache.ts'
import { createTokenVerifier } from '../core/auth/verifier.ts'
import { loadConfig, type ParleyConfig } from './config.ts'
import { createServerWriter } from './documents/write.ts'
import { createRestRoutes } from './http/api.ts'
import { createHttpApp } from './http/app.ts'
import { DEFAULT_DEMO_DIR } from './http/demo.ts'
import { createConnectionGuards, pendingAuthOptions } from './http/connections.ts'
import { createCredentials } from './http/credentials.ts'
import { attachWebSocket, type WebSocketEndpoint } from './http/websocket.ts'
import { createFlowControl, createFlowMetrics } from './flow/index.ts'
import { instrumentHooks } from './observability/hooks.ts'
import { createLogger } from './observability/logger.ts'
import { createGuardMetrics } from './observability/guard-metrics.ts'
import { createJoinCacheMetrics } from './observability/join-cache-metrics.ts'
import { createPresenceMetrics } from './observability/presence-metrics.ts'
import { createMemoryRegistry } from '../core/presence/registry.ts'
import { createMetrics } from './observability/metrics.ts'
import { createNotifications } from './notifications/index.ts'
import { createSearchIndexing } from './search/index.ts'
import { createFeeds } from './feeds/index.ts'
import { createSessionChanges } from './moderation/session-changes.ts'
import { openCluster } from './scaling/cluster.ts'
import { openStorage } from './storage/open.ts'
import { createPushSenders } from './delivery/senders.ts'
import { DEFAULT_REPORT_THRESHOLD } from './moderation/reports.ts'
import { KeepHiddenWords } from './moderation/keep-words.ts'
import { createWebhooks } from './webhooks/index.ts'
import { createWebhookMetrics } from './observability/webhook-metrics.ts'
import { unsubscribeKey } from './email/key.ts'
import { createSmtpSender } from './email/smtp.ts'
import { UNSUBSCRIBE_PATH } from './http/routes/unsubscribe.ts'
import type { ParleyServer, ParleyServerOptions } from './server-types.ts'

export type { ParleyServer, ParleyServerOptions } from './server-types.ts'

/** How long a graceful shutdown waits for documents to be stored and unloaded. */
export const SHUTDOWN_TIMEOUT_MS = 10_000

function defaults(): ParleyConfig {
  const result = loadConfig({})
  if (!result.ok) throw new Error(result.error)
  return result.value
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

export async function createParleyServer(options: ParleyServerOptions = {}): Promise<ParleyServer> {
  const {
    logger: givenLogger,
    storage: givenStorage,
    compactAfterRows = COMPACT_AFTER_ROWS,
    guard: guardOptions,
    flow: flowOptions,
    presence: presenceOptions,
    clusterPresence: clusterPresenceOptions = {},
    inbox: inboxOptions,
    admitWrite,
    connections: connectionOptions,
    delivery: deliveryOptions,
    feeds: feedOptions,
    clock = Date.now,
    webhooks: webhookOptions,
    joinCache: joinCacheOptions = {},
    demoDir = DEFAULT_DEMO_DIR,
    ...overrides
  } = options
  const config: ParleyConfig = { ...defaults(), ...overrides }
  const logger = givenLogger ?? createLogger(config.logLevel)
  const storage = givenStorage ?? (await openStorage(config, logger))
  const devMode = config.jwt.kind === 'dev'
  const devSecret = devMode ? loadOrCreateDevSecret(config.dataDir) : undefined
  // Signs one-click unsubscribe links (server/email/key.ts); the route verifies with it.
  const emailKey = unsubscribeKey({ apiKey: config.apiKey, jwtSecret: config.jwt.kind === 'secret' ? config.jwt.secret : undefined, devSecret })
  if (config.email && !emailKey) throw new Error('email needs PARLEY_API_KEY, PARLEY_JWT_SECRET or dev mode: the unsubscribe links are signed with it')
  const verifier = cacheVerifiedTokens(
    createTokenVerifier(config.jwt, {
      devSecret,
      requireExp: config.production,
    }),
  )

  // What is built before Hocuspocus gets the instance from its onConfigure (extensions/instance.ts).
  const link = new InstanceLink()
  const metrics = createMetrics({ connections: () => link.connections(), documents: () => link.documents() })
  const durability = new Durability({ storage, logger, metrics: metrics.durability, compactAfterRows })
  const access = createAccessResolver({ storage, devMode, logger, now: clock })
  const revocation = createRevocation({ document: (name) => link.hocuspocus.documents.get(name), access, logger })
  // Access changes reach open sessions here and, through Redis, on every other instance (issue 21).
  const sessions = createSessionChanges({ hocuspocus: () => link.hocuspocus, access, revocation, logger, now: clock })
  const localPresence = createMemoryRegistry({ timeoutMs: presenceOptions?.timeoutMs })
  // Several instances: Redis links them (server/scaling/cluster.ts).
  const cluster = config.redisUrl
    ? await openCluster({
        url: config.redisUrl,
        logger,
        revocation,
        sessions,
        localPresence,
        presence: clusterPresenceOptions,
        hookError: metrics.hookError,
      })
    : undefined
  const redis = cluster?.redis
  const presence = cluster?.presence ?? localPresence
  // Flow control slows fast senders before Hocuspocus reads their messages (server/flow/).
  const flow = createFlowControl({ updates: config.updateRate, ...flowOptions, logger, metrics: createFlowMetrics(metrics.registry) })
  // Per-address admission, pre-authentication limits and HTTP timeouts (server/http/connections.ts).
  const connectionGuards = createConnectionGuards({
    connectionsPerAddress: config.connectionsPerAddress,
    trustedProxies: config.trustedProxies,
    options: connectionOptions,
    logger,
    registry: metrics.registry,
  })
  const guard = new Guard({
    ...guardOptions,
    logger,
    owners: storage.clientOwners,
    metrics: createGuardMetrics(metrics.registry, metrics.hookError),
    forgetPending: (name, from) => durability.forget(name, from),
    closeSocket: (webSocket, refused) =>
      flow.closeForRefusal(webSocket, { code: refused.code, documentName: refused.documentName, sender: refused.userId, detail: refused.clients.join(',') }),
  })
  const presenceExtension = new Presence({
    ...presenceOptions,
    registry: presence,
    logger,
    metrics: createPresenceMetrics(metrics.registry, metrics.hookError),
  })
  const notifications = createNotifications({
    storage,
    access,
    logger,
    registry: metrics.registry,
    hookError: metrics.hookError,
    faultPoint: config.faultPoint,
    inbox: inboxOptions,
    maxAgeDays: config.notificationMaxAgeDays,
    appUrl: config.appUrl,
    digestSeconds: config.digestSeconds,
    clustered: redis !== undefined,
    inboxResetCoordinator: cluster?.inboxReset,
    push: { senders: createPushSenders(config.push, deliveryOptions, logger), isPresent: (userId, documentName) => presence.isPresent(userId, documentName) },
    email:
      config.email && emailKey
        ? {
            sender: createSmtpSender(config.email),
            unsubscribeKey: emailKey,
            unsubscribeUrl: (token) => `${config.publicUrl ?? `http://${hostForUrl()}:${address().port}`}${UNSUBSCRIBE_PATH}?token=${token}`,
            isPresent: (userId, documentName) => presence.isPresent(userId, documentName),
          }
        : undefined,
    hocuspocus: () => link.hocuspocus,
  })
  // Fresh joiners of a large document get one cached encoding of it (issue 22, extensions/join-cache/).
  const joinCache =
    joinCacheOptions === false
      ? undefined
      : new JoinCache({ ...joinCacheOptions, logger, metrics: createJoinCacheMetrics(metrics.registry, metrics.hookError) })
  const search = createSearchIndexing({ storage, logger, registry: metrics.registry, hookError: metrics.hookError, hocuspocus: () => link.hocuspocus })
  const feeds = createFeeds({
    ...feedOptions,
    storage,
    access,
    logger,
    hookError: metrics.hookError,
    registry: metrics.registry,
    limit: config.feedLimit,
    faultPoint: config.feedFaultPoint,
    redisUrl: config.redisUrl,
    hocuspocus: () => link.hocuspocus,
    events: notifications.events,
  })
  // Webhooks (issue 17): recorded in the outbox, sent by a loop of their own (server/webhooks/).
  const webhooks =
    config.webhook?.secret === undefined
      ? undefined
      : createWebhooks({
          ...webhookOptions,
          url: config.webhook.url,
          secret: config.webhook.secret,
          storage,
          events: notifications.events,
          logger,
          metrics: createWebhookMetrics(metrics.registry),
        })
  const extensions: Extension[] = [
    link,
    new Metrics({ logger, metrics: metrics.traffic }),
    ...instrumentHooks(
      [
        new Authentication({ verifier, access, revocation, logger, onRefused: (code) => metrics.authRefused(code), watch: connectionGuards.authentication }),
        flow.extension,
        guard,
        new KeepHiddenWords({ storage, logger }),
        presenceExtension,
        durability,
        ...notifications.extensions,
        search.extension,
        feeds.extension,
        ...(joinCache ? [joinCache] : []),
      ],
      { logger, metrics: metrics.hooks },
    ),
    ...(redis ? [redis.extension] : []),
  ]
  const instance = new Hocuspocus({ name: 'parley', quiet: true, extensions, ...pendingAuthOptions(flow.limits.maxDocumentsPerSocket) })

  const app = createHttpApp({
    logger,
    readiness: [{ name: 'storage', check: () => storage.ping() }, ...(redis ? [redis.readiness] : [])],
    metrics: metrics.registry,
    metricsToken: config.metricsToken,
    demo: devMode
      ? { dir: demoDir, token: (userId, name) => devToken(config.jwt, config.dataDir, userId, { name, handle: userId.includes('@') ? undefined : userId }) }
      : undefined,
    api: {
      credentials: createCredentials({ verifier, apiKey: config.apiKey, access, logger }),
      corsOrigins: config.corsOrigins,
      // REST writes pass the same write guard as socket writes (server/documents/write.ts).
      routes: createRestRoutes({
        storage,
        hocuspocus: instance,
        access,
        sessions,
        logger,
        presence,
        outbox: notifications.outbox,
        digestSeconds: config.digestSeconds,
        appUrl: config.appUrl,
        feeds,
        events: notifications.events,
        reportThreshold: config.reportThreshold ?? DEFAULT_REPORT_THRESHOLD,
        now: clock,
        unsubscribeKey: emailKey,
        writer: createServerWriter({
          hocuspocus: instance,
          checkUpdate: (input) => guard.checkServerWrite(input),
          whenStored: (name) => durability.whenStored(name),
          admitWrite: admitWrite ?? ((userId, bytes) => flow.admitWrite(userId, bytes)),
        }),
      }),
    },
  })
  const listener = getRequestListener(app.fetch)
  const httpServer = connectionGuards.createHttpServer((request, response) => {
    // Hono answers its own errors (500 internal_error); a rejection here is the socket failing mid-answer.
    listener(request, response).catch((error: unknown) => logger.warn({ err: error }, 'an HTTP answer failed'))
  })
  const prepareFrame = joinCache ? (frame: Uint8Array) => joinCache.prepare(frame, instance.documents) : undefined
  const webSocket: WebSocketEndpoint = attachWebSocket(httpServer, instance, logger, connectionGuards.limits, flow, prepareFrame)

  let closing: Promise<void> | undefined
  async function shutdown(): Promise<void> {
    httpServer.close()
    httpServer.closeIdleConnections()
    webSocket.close()
    instance.closeConnections()
    await notifications.close()
    await search.close()
    await feeds.close()
    await webhooks?.close()
    instance.flushPendingStores()
    const unloaded = await waitUntil(() => instance.getDocumentsCount() === 0, SHUTDOWN_TIMEOUT_MS)
    if (!unloaded) logger.warn({ documents: instance.getDocumentsCount() }, 'shutdown: documents still loaded after the timeout')
    await durability.flush()
    await instance.hooks('onDestroy', { instance })
    await cluster?.close()
    await storage.close()
    logger.info('stopped')
  }

  const address = (): AddressInfo => {
    const bound = httpServer.address()
    if (!bound || typeof bound === 'string') throw new Error('the server is not listening')
    return bound
  }
  const hostForUrl = () => (config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host)

  return {
    config,
    hocuspocus: instance,
    storage,
    access,
    presence,
    feeds,
    events: notifications.events,
    webhooks,
    expireNotifications: (now) => notifications.expiry.run(now),
    logger,
    metrics,
    httpServer,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject)
          const { port } = address()
          logger.info({ host: config.host, port, storage: storage.kind, redis: Boolean(redis), devMode, node: process.versions.node }, 'listening')
          notifications.start()
          search.start()
          feeds.start()
          webhooks?.start()
          resolve({ host: config.host, port })
        })
      }),
    get port() {
      return address().port
    },
    get httpUrl() {
      return `http://${hostForUrl()}:${address().port}`
    },
    get webSocketUrl() {
      return `ws://${hostForUrl()}:${address().port}`
    },
    close() {
      closing ??= shutdown()
      return closing
    },
    devToken: (userId, options) => devToken(config.jwt, config.dataDir, userId, options),
  }
}
