import { z } from 'zod'
import { attachment, comment, issue, metered, timestamp, uuid } from './shapes.js'

/** The answers of the issue queue the demo service meters. */
export const queueResponses = {
  'POST /v1/issues': z.strictObject({ issue, metered }),
  'GET /v1/issues': z.strictObject({ issues: z.array(issue), next: timestamp.nullable() }),
  'GET /v1/issues/{id}': z.strictObject({
    issue: issue.extend({
      labels: z.array(z.string()),
      comments: z.array(comment),
      relations: z.array(
        z.strictObject({ from_id: uuid, to_id: uuid, kind: z.enum(['blocks', 'relates']) }),
      ),
      attachments: z.array(attachment),
    }),
  }),
  'PATCH /v1/issues/{id}': z.strictObject({ issue, metered }),
  'POST /v1/issues/{id}/comments': z.strictObject({ comment, metered }),
  'GET /v1/issues/{id}/comments': z.strictObject({ comments: z.array(comment) }),
  'POST /v1/issues/{id}/relations': z.strictObject({
    relation: z.strictObject({ from: uuid, to: uuid, kind: z.enum(['blocks', 'relates']) }),
    metered,
  }),
  'POST /v1/issues/{id}/labels': z.strictObject({ label: z.string(), metered }),
  'DELETE /v1/issues/{id}/labels/{label}': z.strictObject({ removed: z.string(), metered }),
  'POST /v1/issues/{id}/attachments': z.strictObject({ attachment, metered }),
  'POST /v1/queue/next': z.strictObject({ issue: issue.nullable(), metered }),
  'GET /v1/queue/batch': z.strictObject({ issues: z.array(issue) }),
  'POST /v1/queue/batch': z.strictObject({ issues: z.array(issue), metered }),
  'GET /v1/queue': z.strictObject({
    queue: z.strictObject({
      open: z.number().int(),
      in_progress: z.number().int(),
      leased: z.number().int(),
      done: z.number().int(),
      ready: z.number().int(),
    }),
  }),
  'POST /v1/issues/{id}/claim': z.strictObject({ issue, metered }),
  'GET /v1/issues/{id}/claim': z.strictObject({
    claimed: z.boolean(),
    mine: z.boolean(),
    claimed_at: timestamp.nullable(),
    expires_at: timestamp.nullable(),
  }),
  'POST /v1/issues/{id}/heartbeat': z.strictObject({ issue, metered }),
  'POST /v1/issues/{id}/checkpoint': z.strictObject({ issue, metered }),
  'POST /v1/issues/{id}/release': z.strictObject({ issue, metered }),
} satisfies Record<string, z.ZodType>
