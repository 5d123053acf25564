/**
 * Where pino writes: a file descriptor (stdout by default), written asynchronously, that can never
 * keep the process alive or block its exit (issue 24).
 *
 * pino's own default destination flushes synchronously at exit and, on a broken pipe, sonic-boom's
 * `flushSync` retries the write every 100 ms forever. Here, instead:
 * - every write is asynchronous (`fs.write`), so a reader that stalls never blocks the event loop;
 * - any write error other than EAGAIN (EPIPE from a closed pipe, EBADF, …) stops logging for good:
 *   the queue is dropped and later lines are discarded;
 * - the queue is bounded: past `maxQueuedBytes`, new lines are dropped (and counted);
 * - nothing runs at exit: `flush(timeoutMs)` is the caller's best effort before `process.exit`.
 */
import fs from 'node:fs'

const RETRY_EAGAIN_MS = 20

export interface LogDestination {
  /** pino calls this with one serialized line. */
  write(line: string): void
  /** Resolves when everything queued is written, logging has stopped, or `timeoutMs` passed. */
  flush(timeoutMs: number): Promise<void>
  /** True once a write failed (e.g. EPIPE): the destination discards everything from then on. */
  readonly stopped: boolean
  /** Lines discarded because the queue was full or logging had stopped. */
  readonly dropped: number
}

export function createLogDestination(fd = 1, maxQueuedBytes = 8 * 1024 * 1024): LogDestination {
  let queue: string[] = []
  let queuedBytes = 0
  let writing = false
  let stopped = false
  let dropped = 0
  const idle = new Set<() => void>()

  const settleIdle = () => {
    for (const resolve of idle) resolve()
    idle.clear()
  }

  const stop = () => {
    stopped = true
    dropped += queue.length
    queue = []
    queuedBytes = 0
    writing = false
    settleIdle()
  }

  const writeNext = (): void => {
    if (stopped) return
    const chunk = queue.join('')
    queue = []
    queuedBytes = 0
    if (chunk.length === 0) {
      writing = false
      settleIdle()
      return
    }
    writing = true
    const buffer = Buffer.from(chunk, 'utf8')
    const writeFrom = (offset: number): void => {
      fs.write(fd, buffer, offset, buffer.length - offset, null, (error, written) => {
        if (error) {
          if (error.code === 'EAGAIN') {
            setTimeout(() => writeFrom(offset), RETRY_EAGAIN_MS).unref()
            return
          }
          stop()
          return
        }
        if (offset + written < buffer.length) writeFrom(offset + written)
        else writeNext()
      })
    }
    writeFrom(0)
  }

  return {
    write(line: string) {
      if (stopped || queuedBytes + line.length > maxQueuedBytes) {
        dropped++
        return
      }
      queue.push(line)
      queuedBytes += line.length
      if (!writing) writeNext()
    },
    flush(timeoutMs: number) {
      if (stopped || (!writing && queue.length === 0)) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          idle.delete(done)
          resolve()
        }, timeoutMs)
        timer.unref()
        const done = () => {
          clearTimeout(timer)
          resolve()
        }
        idle.add(done)
      })
    },
    get stopped() {
      return stopped
    },
    get dropped() {
      return dropped
    },
  }
}
