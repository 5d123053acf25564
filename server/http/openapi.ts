/**
 * The OpenAPI 3.1 description of the REST API, generated from the route declarations (route.ts)
 * with zod 4's `z.toJSONSchema` (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
 */
import { z } from 'zod'
import type { RouteDefinition } from './route.ts'
import { errorSchema } from './schemas.ts'

/** Where the description is served. */
export const OPENAPI_PATH = '/api/v1/openapi.json'

type JsonSchema = Record<string, unknown>

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    // Answers may gain fields (the contract grows compatibly): never describe them as closed.
    override: (ctx) => {
      if (io === 'output' && ctx.jsonSchema.additionalProperties === false) delete ctx.jsonSchema.additionalProperties
    },
  }) as JsonSchema
  return rest
}

/** `/a/:b` → `/a/{b}` */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return []
  const object = jsonSchema(schema, 'input')
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((object.required ?? []) as string[])
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }))
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed path, query or body (`invalid_request`)',
  401: 'Missing or invalid credentials (`token_missing`, `token_invalid`, `token_expired`, `unauthorized`)',
  403: 'No right to do this (`forbidden`, `write_rejected`)',
  404: 'Unknown subject, thread or comment (`not_found`)',
  413: 'Body or comment too large (`too_large`)',
  429: 'Too many requests from this user (`rate_limited`); retry after `Retry-After` seconds',
  503: 'Storage does not answer (`storage_unavailable`)',
}

/** The credentials of each kind of route (public routes check a token of their own). */
const SECURITY: Record<RouteDefinition['auth'], JsonSchema[]> = {
  user: [{ userToken: [] }],
  backend: [{ apiKey: [] }],
  'user-or-backend': [{ userToken: [] }, { apiKey: [] }],
  public: [],
}

function operation(route: RouteDefinition): JsonSchema {
  const { spec } = route
  const responses: Record<string, JsonSchema> = {}
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}),
    }
  }
  const errorBody = { 'application/json': { schema: jsonSchema(errorSchema, 'output') } }
  for (const status of spec.errors) {
    responses[String(status)] = { description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: errorBody }
  }
  return {
    operationId: `${spec.method}${openApiPath(spec.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: SECURITY[route.auth],
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
    ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
    responses,
  }
}

export function openApiDocument(routes: readonly RouteDefinition[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const route of routes) {
    const path = openApiPath(route.spec.path)
    paths[path] = { ...paths[path], [route.spec.method]: operation(route) }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley REST API',
      version,
      description: 'Errors are `{ "error": { "code", "message" } }` with a matching status; the codes are listed in docs/PROTOCOL.md.',
    },
    components: {
      securitySchemes: {
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The same JWT as the WebSocket token' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'PARLEY_API_KEY, for the integrator’s backend' },
      },
    },
    paths,
  }
}
