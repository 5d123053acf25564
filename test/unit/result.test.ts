/** protocol/result.ts: the one result type; `ok` narrows it to its value or its error. */
import { describe, expect, it } from 'vitest'
import { err, ok, OK, type Result } from '../../protocol/index.ts'

function half(n: number): Result<number, string> {
  return n % 2 === 0 ? ok(n / 2) : err(`${n} is odd`)
}

describe('Result', () => {
  it('carries a value on success and an error on failure, told apart by ok', () => {
    const even = half(4)
    const odd = half(3)
    expect(even).toEqual({ ok: true, value: 2 })
    expect(odd).toEqual({ ok: false, error: '3 is odd' })
    // Narrowing: each side is reachable only where ok says so.
    expect(even.ok ? even.value + 1 : even.error).toBe(3)
    expect(odd.ok ? odd.value : odd.error.toUpperCase()).toBe('3 IS ODD')
  })

  it('has one success that carries nothing', () => {
    const done: Result<void, string> = OK
    expect(done).toEqual({ ok: true, value: undefined })
    expect(JSON.stringify(done)).toBe('{"ok":true}')
  })
})
