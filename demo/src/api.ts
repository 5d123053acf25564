/**
 * What the demo asks Parley over HTTP: a token for the picked user (`POST /dev/token`, dev mode
 * only: a real app gets its token from its own backend) and the user directory for @mentions.
 */

export interface DirectoryUser {
  id: string
  name: string | null
  handle: string | null
}

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json()) as T & { error?: { code: string; message: string } }
  if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`)
  return body
}

/** A token function for the SDK: asks once, then answers from memory until the page reloads. */
export function devTokenSource(userId: string, name: string): () => Promise<string> {
  let token: Promise<string> | undefined
  return () => {
    token ??= fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, name }) })
      .then((response) => json<{ token: string }>(response))
      .then((body) => body.token)
    // A failed request is asked again next time.
    token.catch(() => (token = undefined))
    return token
  }
}

/** Users who may read the subject whose handle or name starts with `query` (`GET /api/v1/users`). */
export async function searchUsers(token: string, subjectId: string, query: string): Promise<DirectoryUser[]> {
  const params = new URLSearchParams({ subjectId, query, limit: '6' })
  const response = await fetch(`/api/v1/users?${params.toString()}`, { headers: { authorization: `Bearer ${token}` } })
  return (await json<{ users: DirectoryUser[] }>(response)).users
}
