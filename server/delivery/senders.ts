/** The push senders the configuration enables (server/delivery/push-config.ts), plus any an embedder adds. */
import type { Logger } from 'pino'
import type { PushSender } from '../../core/delivery/senders.ts'
import { createFcmSender, readServiceAccount } from './fcm.ts'
import { createApnsSender, readApnsKey } from './apns.ts'
import type { PushConfig } from './push-config.ts'
import { createWebPushSender } from './web-push.ts'

export function createPushSenders(config: PushConfig, extra: { ca?: string[]; senders?: PushSender[] } | undefined, logger: Logger): PushSender[] {
  const senders: PushSender[] = [...(extra?.senders ?? [])]
  if (config.apns) {
    const { keyFile, ...apns } = config.apns
    senders.push(createApnsSender({ ...apns, key: readApnsKey(keyFile), ca: extra?.ca }))
  }
  if (config.webPush) senders.push(createWebPushSender({ ...config.webPush, ca: extra?.ca }))
  if (config.fcm)
    senders.push(createFcmSender({ account: readServiceAccount(config.fcm.serviceAccountFile), endpoint: config.fcm.endpoint, ca: extra?.ca, logger }))
  return senders
}
