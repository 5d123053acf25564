/**
 * The one result type of Parley's APIs: a value, or an error saying why not. Functions that can
 * refuse return it instead of throwing; `ok` narrows it.
 */

/** Success with a value, or failure with an error. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E }

/** A success. */
export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value }
}

/** A success that carries nothing. */
export const OK: Result<void, never> = { ok: true, value: undefined }

/** A failure. */
export function err<E>(error: E): Result<never, E> {
  return { ok: false, error }
}
