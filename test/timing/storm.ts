/** What the memory budget test (attacks.test.ts) and its attacker (attacker.ts) agree on. */

/** The storm's document and subject, open to everyone by its default role (the test sets it). */
export const STORM_SUBJECT = 'storm'

/** The handle of directory user `i`, as the test seeds them and the storm mentions them. */
export const handleOf = (i: number): string => `m${String(i).padStart(5, '0')}`
