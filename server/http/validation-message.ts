/**
 * One 400 message for every problem zod found in a request part, naming keys (issue 24):
 * `POST …/threads {"text":"hi"}` → "`body` is required; unknown key `text`", not
 * "body.body: Invalid input".
 */
import type { z } from 'zod'

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

/** `where` is `body`, `query` or `params`; fields of the body are named by their own path. */
export function validationMessage(where: string, error: z.ZodError, input: unknown): string {
  const name = (path: readonly PropertyKey[]) => {
    const inside = path.map(String).join('.')
    if (where === 'body') return inside === '' ? 'the body' : `\`${inside}\``
    return `\`${inside === '' ? where : `${where}.${inside}`}\``
  }
  const messages: string[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length > 0 ? `${name(issue.path)}: ` : where === 'body' ? '' : `${where}: `
      for (const key of issue.keys) messages.push(`${prefix}unknown key \`${key}\``)
    } else if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(input, issue.path) === undefined) {
      messages.push(`${name(issue.path)} is required`)
    } else {
      // Other problems keep the `<part>.<path>: <zod message>` form clients may already match.
      messages.push(`${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    }
  }
  return [...new Set(messages)].join('; ') || `${where}: invalid`
}
