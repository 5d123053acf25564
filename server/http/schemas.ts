/**
 * zod schemas shared by the REST routes: ids, roles, comment bodies, the error body and the
 * typed threads of `readThreads`. They validate requests and describe responses in OpenAPI.
 */
import { z } from 'zod'
import { ID_PATTERN, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_BYTES, ROLES } from '../../protocol/index.ts'

/** The metadata caps live in protocol/limits.ts, shared with the write guard. */
export { MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LENGTH }

export const idSchema = z.string().regex(ID_PATTERN, 'must be an id: 1 to 128 of A-Z a-z 0-9 _ . : @ -')
export const roleSchema = z.enum(ROLES)

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
})

const runSchema = z.union([z.strictObject({ text: z.string(), mention: idSchema }), z.strictObject({ text: z.string() })])

/** A comment body: plain text, or runs of text where a run with `mention` mentions a user. */
export const bodyInputSchema = z.union([z.string(), z.array(runSchema)])

const metadataValueSchema = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_VALUE_BYTES, `at most ${MAX_METADATA_VALUE_BYTES} bytes of JSON`)

export const metadataSchema = z
  .record(z.string().min(1).max(MAX_METADATA_KEY_LENGTH), metadataValueSchema)
  .refine((record) => Object.keys(record).length <= MAX_METADATA_ENTRIES, `at most ${MAX_METADATA_ENTRIES} entries`)

const bodyRunOutput = z.object({ text: z.string(), mention: z.string().optional() })

export const commentSchema = z.object({
  id: z.string(),
  authorId: z.string(),
  createdAt: z.number(),
  editedAt: z.number().nullable(),
  deletedAt: z.number().nullable(),
  parentId: z.string().nullable(),
  moderation: z.object({ hiddenBy: z.string(), reason: z.string(), at: z.number() }).nullable(),
  body: z.array(bodyRunOutput),
  text: z.string(),
  mentions: z
    .array(z.string())
    .describe(
      'The mentioned users, as notifications resolve them: the user ids of mention runs (`{ "text", "mention" }`) first, then the users whose handle a plain `@handle` in the text names (case-insensitive; a handle nobody holds names nobody), once each, of the first 20 distinct mentions. A socket reader (`readThreads`) lists the mention runs only.',
    ),
  reactions: z.array(z.object({ emoji: z.string(), userIds: z.array(z.string()) })),
})

export const threadSchema = z.object({
  id: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
  resolved: z.boolean(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.number().nullable(),
  comments: z.array(commentSchema),
  subscribers: z.record(z.string(), z.boolean()),
  readBy: z.record(z.string(), z.number()),
  metadata: z.record(z.string(), z.unknown()),
})

export const directoryUserSchema = z.object({ id: z.string(), name: z.string().nullable(), handle: z.string().nullable() })
