/**
 * Hook timing: wraps extensions so that every hook call is timed into a histogram, and a call
 * slower than {@link SLOW_HOOK_MS} logs a warning with the document name and user id.
 * Results and errors pass through unchanged (an authentication refusal stays a refusal).
 */
import type { Extension, HookName } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { logFields, type HookPayloadFields } from '../../extensions/context.ts'

/** A hook call slower than this logs a warning (and counts in `parley_slow_hooks_total`). */
export const SLOW_HOOK_MS = 100

export interface HookMetrics {
  /** One call of `hook` on `extension`, which took `seconds` (whether it resolved or threw). */
  observeHook(extension: string, hook: string, seconds: number): void
  slowHook(extension: string, hook: string): void
}

export interface HookTimingOptions {
  logger: Logger
  metrics: HookMetrics
  /** Warning threshold in milliseconds; {@link SLOW_HOOK_MS} unless given. */
  slowHookMs?: number
}

/** Every hook Hocuspocus calls on extensions. */
const HOOK_NAMES = [
  'onConfigure',
  'onListen',
  'onUpgrade',
  'onConnect',
  'connected',
  'onAuthenticate',
  'onTokenSync',
  'onCreateDocument',
  'onLoadDocument',
  'afterLoadDocument',
  'beforeHandleMessage',
  'afterHandleMessage',
  'beforeHandleAwareness',
  'beforeBroadcastStateless',
  'beforeSync',
  'onStateless',
  'onChange',
  'onStoreDocument',
  'afterStoreDocument',
  'onAwarenessUpdate',
  'onRequest',
  'onDisconnect',
  'beforeUnloadDocument',
  'afterUnloadDocument',
  'onDestroy',
] as const satisfies readonly HookName[]

type AnyHook = (payload: unknown) => unknown

function hookOf(extension: Extension, name: HookName): AnyHook | undefined {
  const hook = extension[name]
  return typeof hook === 'function' ? (hook as AnyHook) : undefined
}

/** One extension with each of its hooks timed; same name and priority, so the order holds. */
export function instrumentExtension(extension: Extension, options: HookTimingOptions): Extension {
  const { logger, metrics, slowHookMs = SLOW_HOOK_MS } = options
  const extensionName = extension.extensionName ?? extension.constructor.name
  const timed: Record<string, (payload: HookPayloadFields) => Promise<unknown>> = {}
  for (const name of HOOK_NAMES) {
    const hook = hookOf(extension, name)
    if (!hook) continue
    timed[name] = async (payload: HookPayloadFields) => {
      const started = performance.now()
      try {
        return await hook.call(extension, payload)
      } finally {
        const ms = performance.now() - started
        try {
          metrics.observeHook(extensionName, name, ms / 1000)
          if (ms > slowHookMs) {
            metrics.slowHook(extensionName, name)
            logger.warn({ ...logFields(payload), extension: extensionName, hook: name, ms: Math.round(ms) }, 'slow hook')
          }
        } catch {
          // Timing must never change what the hook did.
        }
      }
    }
  }
  const wrapper: Extension = { extensionName, priority: extension.priority }
  return Object.assign(wrapper, timed)
}

export function instrumentHooks(extensions: Extension[], options: HookTimingOptions): Extension[] {
  return extensions.map((extension) => instrumentExtension(extension, options))
}
