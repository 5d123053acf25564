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

/** The metrics of one extension's one hook, resolved once when the extension is wrapped. */
export interface HookObserver {
  /** One call, which took `seconds` (whether it resolved or threw). */
  observe(seconds: number): void
  /** One call slower than the warning threshold. */
  slow(): void
}

export interface HookMetrics {
  observerFor(extension: string, hook: string): HookObserver
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

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * One extension with each of its hooks timed; same name and priority, so the order holds. A hook
 * that answers synchronously is timed and answered synchronously (Hocuspocus chains every hook
 * call in a promise anyway; an async wrapper added one more promise and turn per call, on every
 * message); one that returns a promise is timed when it settles, its outcome passed on unchanged.
 */
export function instrumentExtension(extension: Extension, options: HookTimingOptions): Extension {
  const { logger, metrics, slowHookMs = SLOW_HOOK_MS } = options
  const extensionName = extension.extensionName ?? extension.constructor.name
  const timed: Record<string, (payload: HookPayloadFields) => unknown> = {}
  for (const name of HOOK_NAMES) {
    const hook = hookOf(extension, name)
    if (!hook) continue
    const observer = metrics.observerFor(extensionName, name)
    const done = (payload: HookPayloadFields, started: number) => {
      const ms = performance.now() - started
      try {
        observer.observe(ms / 1000)
        if (ms > slowHookMs) {
          observer.slow()
          logger.warn({ ...logFields(payload), extension: extensionName, hook: name, ms: Math.round(ms) }, 'slow hook')
        }
      } catch {
        // Timing must never change what the hook did.
      }
    }
    timed[name] = (payload: HookPayloadFields) => {
      const started = performance.now()
      let result: unknown
      try {
        result = hook.call(extension, payload)
      } catch (error) {
        done(payload, started)
        throw error
      }
      if (!isPromiseLike(result)) {
        done(payload, started)
        return result
      }
      return Promise.resolve(result).then(
        (value) => {
          done(payload, started)
          return value
        },
        (error: unknown) => {
          done(payload, started)
          throw error
        },
      )
    }
  }
  const wrapper: Extension = { extensionName, priority: extension.priority }
  return Object.assign(wrapper, timed)
}

export function instrumentHooks(extensions: Extension[], options: HookTimingOptions): Extension[] {
  return extensions.map((extension) => instrumentExtension(extension, options))
}
