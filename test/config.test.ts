import webpush from 'web-push'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PORT, loadConfig } from '../server/config.ts'

describe('loadConfig', () => {
  it('is a working single node with no configuration', () => {
    const result = loadConfig({})
    expect(result).toMatchObject({ ok: true, value: { port: DEFAULT_PORT, host: '127.0.0.1', jwt: { kind: 'dev' }, production: false } })
    if (result.ok) expect(result.value.dataDir).toBe(path.resolve('./data'))
    expect(DEFAULT_PORT).toBe(1234)
  })
  it('listens on 0.0.0.0 once a JWT key is configured, unless HOST says otherwise', () => {
    expect(loadConfig({ PARLEY_JWT_SECRET: 's'.repeat(32) })).toMatchObject({ value: { host: '0.0.0.0', jwt: { kind: 'secret' } } })
    expect(loadConfig({ PARLEY_JWT_SECRET: 's'.repeat(32), HOST: '10.0.0.1' })).toMatchObject({ value: { host: '10.0.0.1' } })
  })
  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', REDIS_URL: '' })).toMatchObject({ ok: true, value: { port: DEFAULT_PORT, redisUrl: undefined } })
  })
  it('needs shared storage (DATABASE_URL) for several instances (REDIS_URL)', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ ok: false, error: expect.stringContaining('DATABASE_URL') })
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://x/y' })).toMatchObject({ ok: true })
  })
  it('refuses two JWT keys at once, and production without one', () => {
    expect(loadConfig({ PARLEY_JWT_SECRET: 's'.repeat(32), PARLEY_JWKS_URL: 'https://x/jwks' })).toMatchObject({ ok: false })
    const prod = loadConfig({ NODE_ENV: 'production' })
    expect(prod.ok).toBe(false)
    if (!prod.ok) expect(prod.error).not.toContain('\n')
  })
  it('reads PARLEY_CONNECTIONS_PER_ADDRESS: at least 256 by default, 0 for no limit, a whole number', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { connectionsPerAddress: 256 } })
    expect(loadConfig({ PARLEY_CONNECTIONS_PER_ADDRESS: '0' })).toMatchObject({ ok: true, value: { connectionsPerAddress: 0 } })
    expect(loadConfig({ PARLEY_CONNECTIONS_PER_ADDRESS: '1000' })).toMatchObject({ ok: true, value: { connectionsPerAddress: 1000 } })
    expect(loadConfig({ PARLEY_CONNECTIONS_PER_ADDRESS: '' })).toMatchObject({ ok: true, value: { connectionsPerAddress: 256 } })
    for (const value of ['-1', '2.5', 'many']) {
      const result = loadConfig({ PARLEY_CONNECTIONS_PER_ADDRESS: value })
      expect(result, value).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid PARLEY_CONNECTIONS_PER_ADDRESS: /) })
      if (!result.ok) expect(result.error).not.toContain('\n')
    }
  })
  it('reads PARLEY_TRUSTED_PROXIES: addresses and CIDR ranges, none by default', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { trustedProxies: [] } })
    expect(loadConfig({ PARLEY_TRUSTED_PROXIES: '' })).toMatchObject({ ok: true, value: { trustedProxies: [] } })
    expect(loadConfig({ PARLEY_TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16, fd00::/8' })).toMatchObject({
      ok: true,
      value: { trustedProxies: ['10.0.0.1', '10.1.0.0/16', 'fd00::/8'] },
    })
    expect(loadConfig({ PARLEY_TRUSTED_PROXIES: '10.0.0.1, proxy.internal' })).toEqual({
      ok: false,
      error: 'invalid PARLEY_TRUSTED_PROXIES: "proxy.internal" is not an IP address or CIDR range',
    })
  })
  it('needs a webhook secret with a webhook URL', () => {
    const result = loadConfig({ PARLEY_WEBHOOK_URL: 'https://example.test/hook' })
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining('PARLEY_WEBHOOK_SECRET') })
  })
  it('takes the notification age limit from PARLEY_NOTIFICATION_MAX_AGE_DAYS (default 90)', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { notificationMaxAgeDays: 90 } })
    expect(loadConfig({ PARLEY_NOTIFICATION_MAX_AGE_DAYS: '7' })).toMatchObject({ ok: true, value: { notificationMaxAgeDays: 7 } })
    expect(loadConfig({ PARLEY_NOTIFICATION_MAX_AGE_DAYS: '0' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('invalid PARLEY_NOTIFICATION_MAX_AGE_DAYS'),
    })
  })

  it('takes the default digest window from PARLEY_DIGEST_SECONDS (default 300, 0 to 86400)', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { digestSeconds: 300 } })
    expect(loadConfig({ PARLEY_DIGEST_SECONDS: '60' })).toMatchObject({ ok: true, value: { digestSeconds: 60 } })
    for (const bad of ['-1', '1.5', '86401', 'soon']) {
      expect(loadConfig({ PARLEY_DIGEST_SECONDS: bad })).toMatchObject({ ok: false, error: expect.stringContaining('invalid PARLEY_DIGEST_SECONDS') })
    }
  })

  it('reads PARLEY_APP_URL: an http(s) link template with known placeholders', () => {
    const template = 'https://app.example.com/s/{subjectId}?thread={threadId}#{commentId}'
    expect(loadConfig({ PARLEY_APP_URL: template })).toMatchObject({ ok: true, value: { appUrl: template } })
    expect(loadConfig({})).toMatchObject({ ok: true, value: { appUrl: undefined } })
    for (const bad of ['app.example.com/{subjectId}', 'ftp://x/{subjectId}', 'https://x/{subject}']) {
      expect(loadConfig({ PARLEY_APP_URL: bad })).toMatchObject({ ok: false, error: expect.stringContaining('invalid PARLEY_APP_URL') })
    }
  })

  it('takes the feed document bound from PARLEY_FEED_LIMIT (default 200, 1 to 10000), and the feed fault point', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { feedLimit: 200 } })
    expect(loadConfig({ PARLEY_FEED_LIMIT: '50' })).toMatchObject({ ok: true, value: { feedLimit: 50 } })
    for (const bad of ['0', '1.5', '10001', 'many']) {
      const result = loadConfig({ PARLEY_FEED_LIMIT: bad })
      expect(result).toMatchObject({ ok: false, error: expect.stringContaining('invalid PARLEY_FEED_LIMIT') })
      expect(result.ok ? '' : result.error).not.toContain('\n')
    }
    expect(loadConfig({ PARLEY_FAULT: 'feed-after-record' })).toMatchObject({ ok: true, value: { feedFaultPoint: 'feed-after-record', faultPoint: undefined } })
    expect(loadConfig({ PARLEY_FAULT: 'after-outbox' })).toMatchObject({ ok: true, value: { feedFaultPoint: undefined, faultPoint: 'after-outbox' } })
    expect(loadConfig({ PARLEY_FAULT: 'log-before-commit' })).toMatchObject({
      ok: true,
      value: { storageFaultPoint: 'log-before-commit', faultPoint: undefined, feedFaultPoint: undefined },
    })
    expect(loadConfig({ PARLEY_FAULT: 'log-before-commit', DATABASE_URL: 'postgres://localhost/parley' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('invalid PARLEY_FAULT'),
    })
  })

  it('turns push services on when all their variables are set, with one line naming what is missing or wrong', () => {
    const apns = { APNS_KEY_FILE: '/keys/AuthKey.p8', APNS_KEY_ID: 'K', APNS_TEAM_ID: 'T', APNS_TOPIC: 'com.example.app' }
    expect(loadConfig(apns)).toMatchObject({
      ok: true,
      value: { push: { apns: { keyFile: '/keys/AuthKey.p8', production: false }, webPush: undefined, fcm: undefined } },
    })
    expect(loadConfig({ APNS_KEY_FILE: '/keys/AuthKey.p8', APNS_KEY_ID: 'K' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^invalid APNS_TEAM_ID: APNs needs/),
    })
    const vapid = webpush.generateVAPIDKeys()
    expect(loadConfig({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' })).toMatchObject({
      ok: true,
      value: { push: { webPush: { subject: 'mailto:ops@example.com' } } },
    })
    expect(loadConfig({ VAPID_PUBLIC_KEY: vapid.publicKey })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^invalid VAPID_PRIVATE_KEY: Web Push needs/),
    })
    expect(loadConfig({ VAPID_PUBLIC_KEY: 'nope', VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^invalid VAPID_PUBLIC_KEY: /),
    })
    expect(loadConfig({ FCM_ENDPOINT: 'https://fcm.example.com' })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid FCM_ENDPOINT/) })
  })
})
