import { z } from 'zod'
import { type ErrorCode, errorCodes } from '../core/errorCodes.js'
import type { AppContext } from './context.js'
import { errorStatus } from './errorStatus.js'
import { errorsOf, type Operation, operationKey, operations } from './operations.js'
import { errorBody, responses } from './responses.js'

type JsonSchema = Record<string, unknown>

/** A zod schema as JSON Schema (request bodies as accepted, answers as sent). */
const schema = (s: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _, ...js } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema
  return js
}

const errorRef = { $ref: '#/components/schemas/Error' }

/** Every status with the codes it carries, from the error handler's table. */
const byStatus = (codes: ErrorCode[]) => {
  const out = new Map<number, ErrorCode[]>()
  for (const c of codes) {
    const s = errorStatus[c]
    out.set(s, [...(out.get(s) ?? []), c])
  }
  return out
}

const errorResponse = (description: string, codes?: ErrorCode[]) => ({
  description,
  content: {
    'application/json': {
      schema: codes
        ? {
            allOf: [errorRef, { properties: { error: { properties: { code: { enum: codes } } } } }],
          }
        : errorRef,
    },
  },
})

function operationObject(op: Operation, path: string, price: bigint | undefined) {
  const parameters: unknown[] = []
  for (const m of path.matchAll(/\{(\w+)\}/g)) {
    const s = op.params?.[m[1]!]
    parameters.push({
      name: m[1],
      in: 'path',
      required: true,
      schema: s ? schema(s, 'input') : { type: 'string' },
    })
  }
  if (op.query) {
    const js = schema(op.query, 'input') as { properties?: Record<string, unknown> }
    const required = (js as { required?: string[] }).required ?? []
    for (const [name, s] of Object.entries(js.properties ?? {}))
      parameters.push({ name, in: 'query', required: required.includes(name), schema: s })
  }
  if (op.idempotent)
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,255}$' },
      description:
        'A retry with the same key returns the first response and is never charged twice',
    })
  const body = responses[operationKey(op)]
  const answers: Record<string, unknown> = {}
  for (const status of op.success)
    answers[String(status)] = {
      description: status === op.success[0] ? 'OK' : 'Also answered with this body',
      content: { 'application/json': { schema: schema(body, 'output') } },
    }
  for (const [status, codes] of [...byStatus(errorsOf(op))].sort(([a], [b]) => a - b))
    answers[String(status)] ??= errorResponse(
      codes.map((c) => `${c}: ${errorCodes[c].description}`).join('; '),
      codes,
    )
  return {
    summary: op.summary,
    'x-tollgate-action': op.action,
    ...(price !== undefined ? { 'x-tollgate-price-micros': price.toString() } : {}),
    security:
      op.auth === 'none'
        ? []
        : op.auth === 'operator'
          ? [{ bearer: [] }]
          : [{ bearer: [] }, { session: [] }],
    parameters,
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(op.body, 'input') } },
          },
        }
      : {}),
    responses: answers,
  }
}

/**
 * The OpenAPI 3.1 document of the whole HTTP API, built from the operation table and the zod
 * schemas the routes validate with; error codes come from `errorCodes`, their statuses from
 * the error handler's `errorStatus`.
 */
export function openApiDocument(ctx: Pick<AppContext, 'config'>) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operations) {
    const price = ctx.config.rateCard.prices[op.action]
    for (const path of [op.path, ...(op.aliases ?? [])]) {
      paths[path] ??= {}
      paths[path][op.method] = operationObject(op, path, price)
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${ctx.config.product.name} API`,
      version: '1',
      description: 'Reads are free; value-bearing writes are metered at the rate card.',
    },
    servers: [{ url: ctx.config.product.publicBaseUrl }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'tg_live_… API key, tg_sess_… session key, or a wallet session token',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'tg_session',
          description: 'The wallet session cookie set by sign-in (writes must be same-site)',
        },
      },
      schemas: {
        Error: {
          ...schema(errorBody, 'output'),
          description: Object.entries(errorCodes)
            .map(([c, e]) => `${c} (${errorStatus[c as ErrorCode]}): ${e.description}`)
            .join('\n'),
        },
      },
    },
    paths,
  }
}
