/**
 * Replayable convergence fuzz: five replicas (ana on two devices, ben, cid, a moderator) make honest
 * writes through protocol/comments/write.ts; their updates reach the server through the write
 * guard's checker and SQLite, and come back to the others, in an order a seeded PRNG picks (with
 * offline periods, overtaking updates, compactions and restarts). No honest write may be refused,
 * and every replica, the server's document and the document loaded from storage must agree.
 *
 * 50 seeds per run: 40 fixed and 10 new ones. `PARLEY_FUZZ_SEED=<n>` runs that seed alone and
 * prints what happened. A failing seed is investigated with `node test/fuzz/cli.ts <n> --minimise`.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS, replay, runSeed, type RunResult } from './driver.ts'
import { isKnownIssue } from './known-issues.ts'
import { problems } from './verdict.ts'

const FIXED_SEEDS = Array.from({ length: 40 }, (_, i) => i + 1)
const RANDOM_SEEDS = Array.from({ length: 10 }, () => Math.floor(Math.random() * 0xffff_ffff))
const chosen = process.env.PARLEY_FUZZ_SEED
const SEEDS = chosen === undefined ? [...FIXED_SEEDS, ...RANDOM_SEEDS] : [Number(chosen)]

/** Actions per seed. */
const OPTIONS = { ...DEFAULT_OPTIONS, steps: 250 }
/** The harness's own tests need less. */
const SHORT = { ...DEFAULT_OPTIONS, steps: 150 }

function report(seed: number, result: RunResult, found: string[]): string {
  return [
    `seed ${seed} failed (replay: PARLEY_FUZZ_SEED=${seed} npx vitest run test/fuzz/convergence.test.ts; minimise: node test/fuzz/cli.ts ${seed} --minimise):`,
    ...found.map((line) => `  ${line}`),
    'last actions:',
    ...result.log.slice(-25).map((line) => `  ${line}`),
  ].join('\n')
}

describe('PROTOCOL §Write guard, §Comment document schema: replicas converge through the guard and storage', () => {
  it.each(SEEDS)('seed %i: no honest write refused; replicas, server and storage agree', async (seed) => {
    const result = await runSeed(seed, OPTIONS)
    const found = problems(result, isKnownIssue).map((p) => p.text)
    if (chosen !== undefined) console.log(result.log.join('\n'))
    expect(found, report(seed, result, found)).toEqual([])
    // The run did something worth checking: threads exist, and the views compared are all there.
    expect(result.views.map((v) => v.who)).toEqual(['ana#0', 'ana#1', 'ben#2', 'cid#3', 'mod#4', 'server', 'storage'])
    expect(JSON.parse(result.views[5]!.view.threads)).not.toEqual([])
  })
})

describe('fuzz harness', () => {
  it('replays a seed exactly from its recorded script', async () => {
    const first = await runSeed(7, SHORT)
    const again = await replay(first.script)
    expect(again.log).toEqual(first.log)
    expect(again.views).toEqual(first.views)
    expect(first.script.actions.length).toBe(SHORT.steps)
  })

  it('exercises every kind of action within a few seeds', async () => {
    const wanted = [
      ...[
        'createThread',
        'reply',
        'edit',
        'delete',
        'react',
        'unreact',
        'resolve',
        'reopen',
        'markRead',
        'subscribe',
        'mute',
        'follow',
        'unfollow',
        'hide',
        'host',
      ].map((op) => new RegExp(`#\\d ${op} `)),
      ...['→ server update', '→ server step2', 'server →', ' offline', ' online', ' overtakes ', ' resends ', ' compact', ' restart'].map(
        (what) => new RegExp(what),
      ),
    ]
    let missing = wanted
    for (let seed = 1; seed <= 10 && missing.length > 0; seed++) {
      const text = (await runSeed(seed, SHORT)).log.join('\n')
      missing = missing.filter((pattern) => !pattern.test(text))
    }
    expect(missing.map(String)).toEqual([])
  })

  it('notices a replica that missed an update', async () => {
    const clean = await runSeed(3, SHORT)
    // The last delivery that brought new structs: nothing repairs its loss afterwards.
    const last = clean.log.filter((line) => / server → /.test(line) && !line.includes('(no new structs)')).length
    const sabotaged = await replay(clean.script, { loseDelivery: last })
    expect(sabotaged.log.some((line) => line.includes('LOST (sabotage)'))).toBe(true)
    expect(
      problems(sabotaged, isKnownIssue)
        .map((p) => p.text)
        .join('\n'),
    ).toMatch(/state vector differs/)
  })

  it('notices storage that lost an update', async () => {
    const { script } = await runSeed(3, SHORT)
    const found = problems(await replay(script, { loseAppend: 10 }), isKnownIssue).map((p) => p.text)
    expect(found.join('\n')).toMatch(/storage (state vector|readThreads|readFollowers) differs/)
  })
})
