import { z } from 'zod'
import * as q from '../queue/schemas.js'
import type { AppContext } from './context.js'
import { adminBody, keyBody, sessionKeyBody, siweBody, switchOrgBody } from './ownerRoutes.js'
import { orgBody, pageQuery, usageBody } from './routes.js'

type Op = {
  method: 'get' | 'post' | 'patch' | 'delete'
  path: string
  summary: string
  /** The rate-card action it meters, or 'free'. */
  action: string
  body?: z.ZodType
  query?: z.ZodObject
  auth?: 'none' | 'member' | 'owner'
  idempotent?: boolean
}

const ops: Op[] = [
  {
    method: 'post',
    path: '/v1/orgs',
    summary: 'Sign up: an org, its billing account (signup credit) and a first API key, shown once',
    action: 'free',
    body: orgBody,
    auth: 'none',
  },
  {
    method: 'get',
    path: '/v1/auth/nonce',
    summary: 'A nonce for Sign-In with Ethereum',
    action: 'free',
    auth: 'none',
  },
  {
    method: 'post',
    path: '/v1/auth/siwe',
    summary: 'Owner/admin sign-in: a session token (also the tg_session cookie)',
    action: 'free',
    body: siweBody,
    auth: 'none',
  },
  { method: 'get', path: '/v1/whoami', summary: 'whoami', action: 'free' },
  {
    method: 'post',
    path: '/v1/session-keys',
    summary:
      'mint_session_key: a short-lived agent key (never refused; also POST /v1/session_keys)',
    action: 'mint_session_key',
    body: sessionKeyBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/keys',
    summary: 'Create an API key (owner/admin)',
    action: 'free',
    body: keyBody,
    auth: 'owner',
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/keys',
    summary: 'List API keys (owner/admin)',
    action: 'free',
    auth: 'owner',
  },
  {
    method: 'delete',
    path: '/v1/keys/{id}',
    summary: 'Revoke an API key (owner/admin)',
    action: 'free',
    auth: 'owner',
  },
  {
    method: 'post',
    path: '/v1/orgs/{id}/admins',
    summary: 'Add an admin wallet (owner; also POST /v1/admins)',
    action: 'free',
    body: adminBody,
    auth: 'owner',
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/orgs/{id}/admins',
    summary: 'List admin wallets (owner/admin)',
    action: 'free',
    auth: 'owner',
  },
  {
    method: 'post',
    path: '/v1/usage',
    summary: 'Meter one action of your own API (idempotent with Idempotency-Key)',
    action: '<action>',
    body: usageBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/usage/check',
    summary: 'Would this action be allowed now? Records nothing',
    action: 'free',
    body: usageBody,
  },
  {
    method: 'get',
    path: '/v1/billing',
    summary:
      'Billing status, signup credit, accrued, authorization, monthly budget and charges waiting for it',
    action: 'free',
  },
  {
    method: 'get',
    path: '/v1/billing/transactions',
    summary: 'Ledger lines, newest first, paginated by seq',
    action: 'free',
    query: pageQuery,
  },
  { method: 'get', path: '/v1/billing/payments', summary: 'On-chain payments', action: 'free' },
  {
    method: 'post',
    path: '/v1/billing/manage-link',
    summary: 'A short-lived signed link to the hosted manage page (owner/admin)',
    action: 'free',
    auth: 'owner',
  },
  {
    method: 'get',
    path: '/v1/wallet/orgs',
    summary: 'The orgs the signed-in wallet owns or administers (the dashboard’s org picker)',
    action: 'free',
    auth: 'owner',
  },
  {
    method: 'post',
    path: '/v1/wallet/switch',
    summary: 'A session for another org of the signed-in wallet (also the tg_session cookie)',
    action: 'free',
    body: switchOrgBody,
    auth: 'owner',
  },
  {
    method: 'post',
    path: '/v1/issues',
    summary: 'save_issue (create)',
    action: 'save_issue.create',
    body: q.createIssueBody,
    idempotent: true,
  },
  { method: 'get', path: '/v1/issues', summary: 'list_issues', action: 'free', query: q.listQuery },
  {
    method: 'get',
    path: '/v1/issues/{id}',
    summary: 'get_issue (with comments, labels, relations, attachments)',
    action: 'free',
  },
  {
    method: 'patch',
    path: '/v1/issues/{id}',
    summary: 'save_issue (edit): priced at the highest tier among the fields touched',
    action: 'save_issue.edit_*',
    body: q.editIssueBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/comments',
    summary: 'save_comment',
    action: 'save_comment',
    body: q.commentBody,
    idempotent: true,
  },
  { method: 'get', path: '/v1/issues/{id}/comments', summary: 'list_comments', action: 'free' },
  {
    method: 'post',
    path: '/v1/issues/{id}/relations',
    summary: 'add_relation (blocks: the target is not ready until this issue is done)',
    action: 'add_relation',
    body: q.relationBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/labels',
    summary: 'add_label',
    action: 'add_label',
    body: q.labelBody,
    idempotent: true,
  },
  {
    method: 'delete',
    path: '/v1/issues/{id}/labels/{label}',
    summary: 'remove_label',
    action: 'remove_label',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/attachments',
    summary: 'add_attachment (metadata only)',
    action: 'add_attachment',
    body: q.attachmentBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/queue/next',
    summary: 'next_issue: claim the next ready issue under a lease (an empty poll is free)',
    action: 'next_issue',
    body: q.claimBody,
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/queue/batch',
    summary: 'next_batch peek (free)',
    action: 'free',
    query: q.batchQuery,
  },
  {
    method: 'post',
    path: '/v1/queue/batch',
    summary: 'next_batch claim: priced per claimed issue (an empty batch is free)',
    action: 'next_batch',
    body: q.batchBody,
    idempotent: true,
  },
  { method: 'get', path: '/v1/queue', summary: 'queue_status', action: 'free' },
  {
    method: 'post',
    path: '/v1/issues/{id}/claim',
    summary: 'claim_issue',
    action: 'claim_issue',
    body: q.claimBody,
    idempotent: true,
  },
  { method: 'get', path: '/v1/issues/{id}/claim', summary: 'check_claim', action: 'free' },
  {
    method: 'post',
    path: '/v1/issues/{id}/heartbeat',
    summary: 'heartbeat (lease wind-down: never refused)',
    action: 'heartbeat',
    body: q.leaseBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/checkpoint',
    summary: 'checkpoint (lease wind-down: never refused)',
    action: 'checkpoint',
    body: q.checkpointBody,
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/release',
    summary: 'release_issue (lease wind-down: never refused)',
    action: 'release_issue',
    body: q.releaseBody,
    idempotent: true,
  },
]

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' })

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          examples: [
            'BILLING_INACTIVE',
            'SPEND_CAP_REACHED',
            'VALIDATION_FAILED',
            'IDEMPOTENCY_CONFLICT',
            'UNAUTHORIZED',
            'FORBIDDEN',
            'NOT_FOUND',
            'RATE_LIMITED',
            'UNREACHABLE',
            'RETRYABLE',
            'METERING_IN_DOUBT',
          ],
        },
        message: { type: 'string' },
        reason: { type: 'string', enum: ['inactive', 'no_credit'] },
        subscription_id: { type: 'string' },
        reup_url: { type: 'string' },
      },
      additionalProperties: true,
    },
  },
}

/** The OpenAPI 3.1 document of the whole `/v1` surface, from the zod schemas the routes use. */
export function openApiDocument(ctx: AppContext) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of ops) {
    const params: unknown[] = []
    for (const m of op.path.matchAll(/\{(\w+)\}/g))
      params.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })
    if (op.query) {
      const js = schema(op.query) as { properties?: Record<string, unknown>; required?: string[] }
      for (const [name, s] of Object.entries(js.properties ?? {}))
        params.push({
          name,
          in: 'query',
          required: js.required?.includes(name) ?? false,
          schema: s,
        })
    }
    if (op.idempotent)
      params.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,255}$' },
        description:
          'A retry with the same key returns the first response and is never charged twice',
      })
    const price = ctx.config.rateCard.prices[op.action]
    paths[op.path] ??= {}
    paths[op.path]![op.method] = {
      summary: op.summary,
      'x-tollgate-action': op.action,
      ...(price !== undefined ? { 'x-tollgate-price-micros': price.toString() } : {}),
      security: op.auth === 'none' ? [] : [{ bearer: [] }],
      parameters: params,
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schema(op.body) } },
            },
          }
        : {}),
      responses: {
        '200': { description: 'OK' },
        '4XX': {
          description: 'Error envelope',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        ...(op.action !== 'free'
          ? {
              '402': {
                description: 'BILLING_INACTIVE or SPEND_CAP_REACHED',
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
              },
            }
          : {}),
      },
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
          description: 'tg_live_… API key, tg_sess_… session key',
        },
      },
      schemas: { Error: errorSchema },
    },
    paths,
  }
}
