import { z } from 'zod'
import { displayName } from '../../core/text.js'

/** The sign-up's body: optional, as is its org's name (`x402 0x1234…` when absent). */
export const x402OrgBody = z.object({ name: displayName().min(1).max(200).optional() })
