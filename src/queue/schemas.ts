import { z } from 'zod'
import { text } from '../core/text.js'

// Request bodies of the work queue, shared by the routes (validation) and /openapi.json.

const label = text().trim().min(1).max(64)
export const issueStatus = z.enum(['open', 'in_progress', 'done', 'canceled'])
export const uuidParam = z.uuid()

export const createIssueBody = z.strictObject({
  title: text().trim().min(1).max(500),
  body: text().max(50_000).optional(),
  priority: z.number().int().min(0).max(4).optional(),
  labels: z.array(label).max(20).optional(),
})

export const editIssueBody = z
  .strictObject({
    title: text().trim().min(1).max(500).optional(),
    body: text().max(50_000).optional(),
    status: issueStatus.optional(),
    priority: z.number().int().min(0).max(4).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'change at least one field')

export const commentBody = z.strictObject({ body: text().trim().min(1).max(20_000) })
export const relationBody = z.strictObject({
  to: z.uuid(),
  kind: z.enum(['blocks', 'relates']).default('blocks'),
})
export const labelBody = z.strictObject({ label })
export const attachmentBody = z.strictObject({
  name: text().trim().min(1).max(255),
  content_type: text().min(1).max(127),
  size_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  // A link the dashboard or an agent may follow: web addresses only, never `javascript:` or
  // `data:` (and `http:` only outside production: the route checks).
  url: text()
    .max(2048)
    .pipe(z.url({ protocol: /^https?$/, error: 'an https: URL' }))
    .optional(),
})
export const claimBody = z.strictObject({
  lease_seconds: z.number().int().min(5).max(3600).optional(),
})
export const batchBody = z.strictObject({
  size: z.number().int().min(1).max(100),
  lease_seconds: z.number().int().min(5).max(3600).optional(),
})
export const batchQuery = z.object({ size: z.coerce.number().int().min(1).max(100).optional() })
export const leaseBody = z.strictObject({
  lease_token: text().min(1).max(128),
  lease_seconds: z.number().int().min(5).max(3600).optional(),
})
export const checkpointBody = z.strictObject({
  lease_token: text().min(1).max(128),
  checkpoint: text().max(50_000),
})
export const releaseBody = z.strictObject({
  lease_token: text().min(1).max(128),
  status: issueStatus.optional(),
})
export const listQuery = z.object({
  status: issueStatus.optional(),
  label: label.optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  before: z.iso.datetime({ offset: true }).optional(),
})
