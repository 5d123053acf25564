/**
 * Runs fuzz seeds outside vitest, for looking into a failure:
 *
 *   node test/fuzz/cli.ts 42                 one seed: its problems and what happened
 *   node test/fuzz/cli.ts 42 --minimise      and the shortest script that fails the same way (JSON)
 *   node test/fuzz/cli.ts --scan 1 500       seeds 1 to 500: which fail, and how
 *   … --known                                count the known issues (test/fuzz/known-issues.ts) too
 *   … --log                                  print every action of the run
 *   … --steps 800                            actions per seed (default 200)
 */
import { DEFAULT_OPTIONS, replay, runSeed } from './driver.ts'
import { isKnownIssue } from './known-issues.ts'
import { minimise, problems, signature } from './verdict.ts'

const args = process.argv.slice(2)
const stepsAt = args.indexOf('--steps')
const options = stepsAt === -1 ? DEFAULT_OPTIONS : { ...DEFAULT_OPTIONS, steps: Number(args[stepsAt + 1]) }
/** `--known`: report the known issues too (by default they are left out, as in the seeded tests). */
const tolerate = args.includes('--known') ? undefined : isKnownIssue
if (args[0] === '--scan') {
  const from = Number(args[1] ?? 1)
  const to = Number(args[2] ?? from + 99)
  const started = performance.now()
  const seen = new Map<string, number[]>()
  for (let seed = from; seed <= to; seed++) {
    const found = signature(await runSeed(seed, options), tolerate)
    if (found !== null) seen.set(found, [...(seen.get(found) ?? []), seed])
  }
  console.log(`${to - from + 1} seeds in ${Math.round(performance.now() - started)} ms`)
  for (const [found, seeds] of seen) console.log(`${seeds.length} × ${found}\n    seeds ${seeds.slice(0, 12).join(', ')}`)
} else {
  const seed = Number(args[0])
  const result = await runSeed(seed, options)
  const found = problems(result, tolerate)
  console.log(found.length === 0 ? `seed ${seed}: converged` : `seed ${seed}:\n  ${found.map((p) => p.text).join('\n  ')}`)
  if (args.includes('--log')) console.log(result.log.join('\n'))
  if (found.length > 0 && args.includes('--minimise')) {
    const small = await minimise(result.script, tolerate)
    const again = await replay(small)
    console.log(`minimised to ${small.actions.length} actions (from ${result.script.actions.length}):`)
    console.log(again.log.join('\n'))
    console.log(
      problems(again, tolerate)
        .map((p) => p.text)
        .join('\n'),
    )
    console.log(JSON.stringify(small))
  }
}
