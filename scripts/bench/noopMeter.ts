import type { Meter, MeterOutcome, MeterParameters } from '../../src/ledger/index.js'

/** An outcome that prices and records nothing: what a meter that meters nothing answers. */
export const unmeteredOutcome = (
  p: Pick<MeterParameters, 'orgId' | 'action' | 'quantity'>,
): MeterOutcome => ({
  usageId: '0',
  orgId: p.orgId,
  subscriptionId: '',
  action: p.action,
  quantity: p.quantity ?? 1,
  unitPriceMicros: '0',
  priceMicros: '0',
  voucherMicros: '0',
  includedMicros: '0',
  prepaidMicros: '0',
  billableMicros: '0',
  free: null,
  rateVersion: '',
  windowIndex: null,
  status: 'recorded',
  replayed: false,
})

/**
 * A meter that records nothing and answers at once: bench:api's "metering off", so that what
 * metering costs is measured without a switch in the API's own code. It serves metered
 * actions (`meter`); a reservation's commit or void would look for a usage row that is not
 * there, so the bench's workload has none.
 *
 * @example
 * const app = createApp({ ...ctx, meter: createNoopMeter() })
 */
export function createNoopMeter(): Meter {
  return {
    meter: async (p) => unmeteredOutcome(p),
    reserve: async (p) => ({ ...unmeteredOutcome(p), status: 'reserved' }),
    close: async () => {},
    stats: { batches: 0, actions: 0, cached: 0, refusedCached: 0, stale: 0, inDoubt: 0 },
  }
}
