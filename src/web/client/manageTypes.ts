import type { PaymentView } from './paymentCells.js'
import type { PlanJson } from './planLine.js'

/** EIP-712 typed data as the server prepares it for the wallet. */
export type Typed = {
  domain: Record<string, unknown>
  types: Record<string, unknown>
  primaryType: string
  message: Record<string, string>
}
/** What `GET /s/<id>/state` answers (the amounts only in the owner's view). */
export type ManageState = {
  state: string
  state_reason?: string | null
  owner_view: boolean
  /** The amounts are shown to a manage link, not to the owner's signed-in wallet. */
  via_link?: boolean
  product: string
  chain_id: number | null
  token: string | null
  collector: string | null
  payee: string | null
  explorer_tx_prefix: string | null
  explorer_address_prefix: string | null
  owner?: string
  micros?: Record<string, string | null>
  window_start?: string | null
  window_end?: string | null
  window_seconds?: number
  authorization_held?: boolean
  waiting_for_limit?: string | null
  limit_too_low?: boolean
  public_history?: boolean
  prepaid?: boolean
  /** Micro-credits, as strings: below `threshold` settlement pulls `amount`; null when off. */
  auto_top_up?: { threshold: string; amount: string } | null
  /** The plan's included allowance this month (`planView`); null without a plan. */
  plan?: PlanJson | null
  payments?: (PaymentView & { tx_hash: string; explorer_url: string | null })[]
  charges?: {
    seq: number
    amount_micros: string
    status: string
    reason: string | null
    kind: 'usage' | 'topup'
    bonus_micros: string | null
  }[]
}
