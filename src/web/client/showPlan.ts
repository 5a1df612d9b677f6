import { type PlanJson, planLine } from './planLine.js'
import { $, amount } from './ui.js'

/**
 * Shows the plan's line in `selector` (each amount with its exact micro-credits on hover), and
 * the page's `.plan` elements only while the org has a plan.
 */
export function showPlan(selector: string, plan: PlanJson | null): void {
  for (const e of Array.from(document.querySelectorAll<HTMLElement>('.plan'))) e.hidden = !plan
  $(selector).replaceChildren(
    ...(plan ? planLine(plan).map((p) => (typeof p === 'string' ? p : amount(p.micros))) : []),
  )
}
