import { z } from 'zod'
import { type ErrorCode, errorCodes } from '../errorCodes.js'
import * as q from '../queue/schemas.js'
import { budgetBody, budgetParams } from './budgetRoutes.js'
import {
  emailBody,
  endpointBody,
  endpointPatch,
  eventsQuery,
  redeliverBody,
  rotateBody,
} from './notificationRoutes.js'
import { adminBody, keyBody, sessionKeyBody, siweBody, switchOrgBody } from './ownerRoutes.js'
import type { responses } from './responses.js'
import { revocationBody } from './revocationRoutes.js'
import { orgBody, pageQuery, usageBody } from './routes.js'
import { statementParams, usageQuery } from './usageRoutes.js'

/** One operation the API serves: what it takes, what it answers, what it may refuse with. */
export type Operation = {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** OpenAPI form (`/v1/issues/{id}`); express's `:id` is the same path. */
  path: keyof typeof responses extends `${string} ${infer P}` ? P : never
  /** Other paths express serves the same handler on. */
  aliases?: string[]
  summary: string
  /** The rate-card action it meters, or 'free'. */
  action: string
  /** Who may call it: nobody signed in, any credential, or an owner/admin wallet session. */
  auth: 'none' | 'member' | 'owner'
  params?: Record<string, z.ZodType>
  body?: z.ZodType
  query?: z.ZodObject
  /** The statuses answered with the documented body (the first is the usual one). */
  success: number[]
  /** Whether it takes an `Idempotency-Key` (every write under /v1). */
  idempotent?: boolean
  /** Codes this operation can refuse with beyond those its kind implies (see `errorsOf`). */
  errors?: ErrorCode[]
}

const id = { id: q.uuidParam }
const lease: ErrorCode[] = ['LEASE_NOT_HELD']

/** Every operation of the HTTP API: the source of `/openapi.json` and of the API's fuzz test. */
export const operations: Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Health: database, chain and workers (the same report with 503 when degraded)',
    action: 'free',
    auth: 'none',
    success: [200, 503],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    action: 'free',
    auth: 'none',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/orgs',
    summary: 'Sign up: an org, its billing account (signup credit) and a first API key, shown once',
    action: 'free',
    auth: 'none',
    body: orgBody,
    success: [201],
  },
  {
    method: 'get',
    path: '/v1/auth/nonce',
    summary: 'A nonce for Sign-In with Ethereum',
    action: 'free',
    auth: 'none',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/auth/siwe',
    summary: 'Owner/admin sign-in: a session token (also the tg_session cookie)',
    action: 'free',
    auth: 'none',
    body: siweBody,
    success: [200],
    errors: ['UNAUTHORIZED', 'FORBIDDEN'],
  },
  {
    method: 'get',
    path: '/v1/whoami',
    summary: 'The caller: org, key, role, wallet',
    action: 'free',
    auth: 'member',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/session-keys',
    aliases: ['/v1/session_keys'],
    summary: 'mint_session_key: a short-lived agent key (never refused)',
    action: 'mint_session_key',
    auth: 'member',
    body: sessionKeyBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/keys',
    summary: 'Create an API key (owner/admin)',
    action: 'free',
    auth: 'owner',
    body: keyBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/keys',
    summary: 'List API keys (owner/admin)',
    action: 'free',
    auth: 'owner',
    success: [200],
  },
  {
    method: 'delete',
    path: '/v1/keys/{id}',
    summary: 'Revoke an API key (owner/admin)',
    action: 'free',
    auth: 'owner',
    params: id,
    success: [200],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/orgs/{id}/admins',
    aliases: ['/v1/admins'],
    summary: 'Add an admin wallet (owner only; the org must be the caller’s own)',
    action: 'free',
    auth: 'owner',
    params: { id: z.string() },
    body: adminBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/orgs/{id}/admins',
    aliases: ['/v1/admins'],
    summary: 'List admin wallets (owner/admin)',
    action: 'free',
    auth: 'owner',
    params: { id: z.string() },
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/usage',
    summary: 'Meter one action of your own API (a retry with the same Idempotency-Key answers 200)',
    action: '<action>',
    auth: 'member',
    body: usageBody,
    success: [201, 200],
    idempotent: true,
    errors: ['UNKNOWN_ACTION', 'NO_BILLING_ACCOUNT', 'USAGE_STATE'],
  },
  {
    method: 'post',
    path: '/v1/usage/check',
    summary: 'Would this action be allowed now? Records nothing',
    action: 'free',
    auth: 'member',
    body: usageBody,
    success: [200],
    errors: ['UNKNOWN_ACTION', 'NO_BILLING_ACCOUNT'],
  },
  {
    method: 'get',
    path: '/v1/billing',
    summary:
      'Billing status, signup credit, accrued, authorization, monthly budget and charges waiting for it',
    action: 'free',
    auth: 'member',
    success: [200],
  },
  {
    method: 'get',
    path: '/v1/billing/transactions',
    summary: 'Ledger lines, newest first, paginated by seq',
    action: 'free',
    auth: 'member',
    query: pageQuery,
    success: [200],
  },
  {
    method: 'get',
    path: '/v1/events',
    summary:
      'Notification events (allowance, budget, credit, subscription, charge, permit), newest first, or oldest first after a cursor',
    action: 'free',
    auth: 'member',
    query: eventsQuery,
    success: [200],
  },
  {
    method: 'get',
    path: '/v1/notifications/email',
    summary: 'The owner’s notice mail: the address, whether it is verified, the kinds mailed',
    action: 'free',
    auth: 'owner',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/notifications/email',
    summary:
      'Set the notice address and kinds (owner/admin); a new address gets a one-time verification link and nothing else until it is opened',
    action: 'free',
    auth: 'owner',
    body: emailBody,
    success: [200],
    idempotent: true,
  },
  {
    method: 'delete',
    path: '/v1/notifications/email',
    summary: 'Stop all notice mail: forget the address (owner/admin)',
    action: 'free',
    auth: 'owner',
    success: [200],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/webhooks/endpoints',
    summary: 'Register a webhook endpoint (owner/admin); answers its signing secret, shown once',
    action: 'free',
    auth: 'owner',
    body: endpointBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/webhooks/endpoints',
    summary: 'The org’s webhook endpoints (owner/admin)',
    action: 'free',
    auth: 'owner',
    success: [200],
  },
  {
    method: 'patch',
    path: '/v1/webhooks/endpoints/{id}',
    summary: 'Change a webhook endpoint, or enable it again (owner/admin)',
    action: 'free',
    auth: 'owner',
    params: id,
    body: endpointPatch,
    success: [200],
    idempotent: true,
  },
  {
    method: 'delete',
    path: '/v1/webhooks/endpoints/{id}',
    summary: 'Remove a webhook endpoint (owner/admin)',
    action: 'free',
    auth: 'owner',
    params: id,
    success: [200],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/webhooks/endpoints/{id}/rotate-secret',
    summary:
      'A new signing secret; the old one keeps signing beside it for the overlap (owner/admin)',
    action: 'free',
    auth: 'owner',
    params: id,
    body: rotateBody,
    success: [200],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/webhooks/endpoints/{id}/deliveries',
    summary: 'The delivery log of an endpoint, newest first, each attempt with its answer',
    action: 'free',
    auth: 'owner',
    params: id,
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/webhooks/endpoints/{id}/redeliver',
    summary: 'Send an event to the endpoint again, with the same id',
    action: 'free',
    auth: 'owner',
    params: id,
    body: redeliverBody,
    success: [202],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/billing/payments',
    summary: 'On-chain payments',
    action: 'free',
    auth: 'member',
    success: [200],
  },
  {
    method: 'get',
    path: '/v1/billing/usage',
    summary:
      'Usage over a period (7d, 30d, the billing window, or custom from/to UTC days): per day against the monthly limit, the cap drawn down, by action, tier and API key',
    action: 'free',
    auth: 'member',
    query: usageQuery,
    success: [200],
  },
  {
    method: 'get',
    path: '/v1/billing/statements/{month}',
    summary:
      'A monthly statement (`2026-12`): every charge booked that month with its usage lines and transaction; `2026-12.csv` answers it as CSV',
    action: 'free',
    auth: 'member',
    params: statementParams,
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/billing/manage-link',
    summary: 'A short-lived signed link to the hosted manage page (owner/admin)',
    action: 'free',
    auth: 'owner',
    success: [201],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/budgets',
    summary:
      'Spend budgets of the org and its API keys: limit, override, spent this UTC day/week/month, reset time',
    action: 'free',
    auth: 'member',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/budgets',
    summary:
      'Set a budget on an API key (key_id) or on the org, per UTC day, week or month, with an optional override until a time (owner/admin)',
    action: 'free',
    auth: 'owner',
    body: budgetBody,
    success: [200],
    idempotent: true,
  },
  {
    method: 'delete',
    path: '/v1/budgets/{scope}/{period}',
    summary: 'Remove a budget: scope `org` or an API key’s id, and its period (owner/admin)',
    action: 'free',
    auth: 'owner',
    params: budgetParams,
    success: [200],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/billing/revocation',
    summary:
      'The permit the owner signs to void every permit they signed and nobody submitted, without canceling (owner/admin)',
    action: 'free',
    auth: 'owner',
    success: [200],
    errors: ['SIGNATURE_REJECTED', 'NO_BILLING_ACCOUNT', 'NO_CHAIN'],
  },
  {
    method: 'post',
    path: '/v1/billing/revocation',
    summary:
      'Submit the owner’s signed revocation: older unsubmitted permits are void; allowance and cap stay (owner/admin)',
    action: 'free',
    auth: 'owner',
    body: revocationBody,
    success: [200],
    idempotent: true,
    errors: ['SIGNATURE_REJECTED', 'NO_BILLING_ACCOUNT', 'NO_CHAIN'],
  },
  {
    method: 'get',
    path: '/v1/wallet/orgs',
    summary: 'The orgs the signed-in wallet owns or administers (the dashboard’s org picker)',
    action: 'free',
    auth: 'owner',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/wallet/switch',
    summary: 'A session for another org of the signed-in wallet (also the tg_session cookie)',
    action: 'free',
    auth: 'owner',
    body: switchOrgBody,
    success: [200],
    idempotent: true,
    errors: ['NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/v1/issues',
    summary: 'save_issue (create)',
    action: 'save_issue.create',
    auth: 'member',
    body: q.createIssueBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/issues',
    summary: 'list_issues',
    action: 'free',
    auth: 'member',
    query: q.listQuery,
    success: [200],
  },
  {
    method: 'get',
    path: '/v1/issues/{id}',
    summary: 'get_issue (with comments, labels, relations, attachments)',
    action: 'free',
    auth: 'member',
    params: id,
    success: [200],
  },
  {
    method: 'patch',
    path: '/v1/issues/{id}',
    summary: 'save_issue (edit): priced at the highest tier among the fields touched',
    action: 'save_issue.edit_*',
    auth: 'member',
    params: id,
    body: q.editIssueBody,
    success: [200],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/comments',
    summary: 'save_comment',
    action: 'save_comment',
    auth: 'member',
    params: id,
    body: q.commentBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/issues/{id}/comments',
    summary: 'list_comments',
    action: 'free',
    auth: 'member',
    params: id,
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/relations',
    summary: 'add_relation (blocks: the target is not ready until this issue is done)',
    action: 'add_relation',
    auth: 'member',
    params: id,
    body: q.relationBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/labels',
    summary: 'add_label',
    action: 'add_label',
    auth: 'member',
    params: id,
    body: q.labelBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'delete',
    path: '/v1/issues/{id}/labels/{label}',
    summary: 'remove_label',
    action: 'remove_label',
    auth: 'member',
    params: { ...id, label: q.labelBody.shape.label },
    success: [200],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/attachments',
    summary: 'add_attachment (metadata only)',
    action: 'add_attachment',
    auth: 'member',
    params: id,
    body: q.attachmentBody,
    success: [201],
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/queue/next',
    summary: 'next_issue: claim the next ready issue under a lease (an empty poll is free)',
    action: 'next_issue',
    auth: 'member',
    body: q.claimBody,
    success: [200],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/queue/batch',
    summary: 'next_batch peek (free)',
    action: 'free',
    auth: 'member',
    query: q.batchQuery,
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/queue/batch',
    summary: 'next_batch claim: priced per claimed issue (an empty batch is free)',
    action: 'next_batch',
    auth: 'member',
    body: q.batchBody,
    success: [200],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/queue',
    summary: 'queue_status',
    action: 'free',
    auth: 'member',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/claim',
    summary: 'claim_issue',
    action: 'claim_issue',
    auth: 'member',
    params: id,
    body: q.claimBody,
    success: [200],
    idempotent: true,
    errors: ['ALREADY_CLAIMED'],
  },
  {
    method: 'get',
    path: '/v1/issues/{id}/claim',
    summary: 'check_claim',
    action: 'free',
    auth: 'member',
    params: id,
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/heartbeat',
    summary: 'heartbeat (lease wind-down: never refused)',
    action: 'heartbeat',
    auth: 'member',
    params: id,
    body: q.leaseBody,
    success: [200],
    idempotent: true,
    errors: lease,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/checkpoint',
    summary: 'checkpoint (lease wind-down: never refused)',
    action: 'checkpoint',
    auth: 'member',
    params: id,
    body: q.checkpointBody,
    success: [200],
    idempotent: true,
    errors: lease,
  },
  {
    method: 'post',
    path: '/v1/issues/{id}/release',
    summary: 'release_issue (lease wind-down: never refused)',
    action: 'release_issue',
    auth: 'member',
    params: id,
    body: q.releaseBody,
    success: [200],
    idempotent: true,
    errors: lease,
  },
]

/**
 * The codes an operation can answer with: those any request can meet (`anyRequest` in the
 * table), those its kind implies (credentials, roles, ids, idempotency keys, metering)
 * and its own.
 */
export function errorsOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>(
    (Object.keys(errorCodes) as ErrorCode[]).filter((c) => 'anyRequest' in errorCodes[c]),
  )
  const add = (...c: ErrorCode[]) => {
    for (const x of c) codes.add(x)
  }
  // Every /v1 route refuses a query parameter it does not take (`strictQuery`).
  if (op.path.startsWith('/v1/')) add('RATE_LIMITED', 'INVALID_QUERY_PARAMETER')
  if (op.auth !== 'none') add('UNAUTHORIZED')
  if (op.auth !== 'none' && op.method !== 'get') add('CROSS_SITE_REQUEST')
  if (op.auth === 'owner') add('FORBIDDEN')
  if (op.params) add('NOT_FOUND')
  if (op.idempotent) add('IDEMPOTENCY_CONFLICT', 'IDEMPOTENCY_IN_PROGRESS')
  if (op.action !== 'free')
    add('BILLING_INACTIVE', 'SPEND_CAP_REACHED', 'IDEMPOTENCY_CONFLICT', 'METERING_IN_DOUBT')
  add(...(op.errors ?? []))
  return [...codes]
}

/** `METHOD /path`, the key of an operation in `responses`. */
export const operationKey = (op: Pick<Operation, 'method' | 'path'>) =>
  `${op.method.toUpperCase()} ${op.path}` as keyof typeof responses
