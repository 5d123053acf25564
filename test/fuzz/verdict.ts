/**
 * Judging a fuzz run: the problems it shows (an honest write refused, a writer or server error,
 * pending structs left, replicas, server or storage disagreeing, words left in a deleted comment),
 * a signature that names "the same failure" across runs, and delta debugging to the shortest
 * script that still fails the same way.
 */
import { replay, type RunResult } from './driver.ts'
import type { Action, RefusedWrite, Script } from './world.ts'

export interface Problem {
  kind: 'refused' | 'writer' | 'server' | 'pending' | 'diverged' | 'words-left'
  text: string
  refusal?: RefusedWrite
}

/** Whether a problem is a known issue, left out of the seeded runs (see known-issues.ts). */
export type Tolerate = (problem: Problem, result: RunResult) => boolean

const none: Tolerate = () => false

/** Every problem of a run; empty when it converged and no honest write was refused. */
export function problems(result: RunResult, tolerate: Tolerate = none): Problem[] {
  const out: Problem[] = []
  const { failure } = result
  for (const refusal of result.refusals) {
    // The guard asks a connection whose updates arrived out of order to resync: no write is lost.
    if (refusal.code === 'out_of_sync' && refusal.afterReorder) continue
    const { step, replica, write, code, reason } = refusal
    out.push({ kind: 'refused', text: `step ${step}: ${replica}'s honest write [${write}] refused: ${code}: ${reason}`, refusal })
  }
  if (failure?.kind === 'local')
    out.push({ kind: 'writer', text: `step ${failure.step}: ${failure.replica}'s writer refused [${failure.write}]: ${failure.message}` })
  if (failure?.kind === 'server') out.push({ kind: 'server', text: `step ${failure.step}: the server failed: ${failure.message}` })
  if (!failure) {
    const reference = result.views.find((v) => v.who === 'server')
    for (const { who, view } of result.views) {
      if (view.pending) out.push({ kind: 'pending', text: `${who} holds pending structs or deletions` })
      if (!reference || who === 'server') continue
      const differs = (what: string) => out.push({ kind: 'diverged', text: `${who} ${what} differs from the server's` })
      if (JSON.stringify(view.stateVector) !== JSON.stringify(reference.view.stateVector)) differs('state vector')
      if (view.threads !== reference.view.threads) differs('readThreads')
      if (view.followers !== reference.view.followers) differs('readFollowers')
    }
    for (const comment of result.undeletedWords) out.push({ kind: 'words-left', text: `deleted comment ${comment} still has words on the server` })
  }
  return out.filter((problem) => !tolerate(problem, result))
}

/** The first problem with its variable parts (steps, ids, devices) blurred; null when there is none. */
export function signature(result: RunResult, tolerate?: Tolerate): string | null {
  const first = problems(result, tolerate)[0]
  return first === undefined
    ? null
    : first.text
        .replace(/step \d+/g, 'step N')
        .replace(/\[[^\]]*\]/g, '[…]')
        .replace(/r\d+-\d+/g, 'ID')
        .replace(/#\d+/g, '')
}

/**
 * Delta debugging over the actions: a 1-minimal script whose run still fails with the same
 * {@link signature}. Every try is a full replay; `maxRuns` bounds the work.
 */
export async function minimise(script: Script, tolerate?: Tolerate, maxRuns = 2_000): Promise<Script> {
  const target = signature(await replay(script), tolerate)
  if (target === null) return script
  let actions = script.actions
  let runs = 0
  const fails = async (candidate: Action[]) => {
    runs++
    return signature(await replay({ ...script, actions: candidate }), tolerate) === target
  }
  let chunks = 2
  while (actions.length >= 2 && runs < maxRuns) {
    const size = Math.ceil(actions.length / chunks)
    let reduced = false
    for (let start = 0; start < actions.length && runs < maxRuns; start += size) {
      const candidate = [...actions.slice(0, start), ...actions.slice(start + size)]
      if (await fails(candidate)) {
        actions = candidate
        chunks = Math.max(chunks - 1, 2)
        reduced = true
        break
      }
    }
    if (!reduced) {
      if (size === 1) break
      chunks = Math.min(chunks * 2, actions.length)
    }
  }
  return { ...script, actions }
}
