/**
 * What the memory budget test (attacks.test.ts) and bench/attacks.ts share: an honest writer and
 * reader of one comments document that measure delivery in phases, the attackers run at the lowest
 * CPU priority, and a process's CPU time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type * as Y from 'yjs'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'
import { ROOT } from '../helpers/child.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { waitFor } from '../helpers/wait.ts'

/** CPU time (ms) the process has used. */
export function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** A child process at the lowest CPU priority whose output is collected. */
export function niceChild(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn('nice', ['-n', '19', process.execPath, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  return { child, output: () => out }
}

export interface HonestPair {
  clients: RawClient[]
  /** Writes a comment every `intervalMs` for `ms`, then waits for each to reach the reader; resolves with their delivery times (ms). */
  phase(label: string, ms: number): Promise<number[]>
}

/** A writer and a reader (raw providers) of `name`, with a thread the writer replies in. */
export async function honestPair(webSocketUrl: string, name: string, tokens: { writer: string; reader: string }, intervalMs: number): Promise<HonestPair> {
  const writer = await rawClient(webSocketUrl, name, tokens.writer)
  const observer = await rawClient(webSocketUrl, name, tokens.reader)
  const { threadId } = createThread({ doc: writer.doc, userId: 'writer' }, 'start')
  await waitFor(() => threadsMap(observer.doc).has(threadId), 'the reader sees the thread')
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  observer.doc.on('update', () => {
    const comments = threadsMap(observer.doc).get(threadId)?.get('comments') as Y.Array<Y.Map<unknown>> | undefined
    for (const comment of comments?.toArray() ?? []) {
      const id = comment.get('id') as string
      const at = sentAt.get(id)
      if (at === undefined) continue
      latencies.push(performance.now() - at)
      sentAt.delete(id)
    }
  })
  let sample = 0
  return {
    clients: [writer, observer],
    async phase(label, ms) {
      latencies.length = 0
      const until = performance.now() + ms
      while (performance.now() < until) {
        const id = `${label}-${sample++}`
        sentAt.set(id, performance.now())
        reply({ doc: writer.doc, userId: 'writer', newId: () => id }, threadId, id)
        await new Promise((resolve) => setTimeout(resolve, intervalMs))
      }
      await waitFor(() => sentAt.size === 0, `${label}: every sample delivered`, 30_000)
      return [...latencies]
    },
  }
}
