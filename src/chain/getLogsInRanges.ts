/** Blocks per log read when nothing else is configured: what most hosted RPCs accept. */
export const defaultMaxLogRange = 2_000n

export type BlockRange = { fromBlock: bigint; toBlock: bigint }

export type GetLogsInRangesParameters<T> = {
  fromBlock: bigint
  /** Last block to read; the head when omitted. */
  toBlock?: bigint | undefined
  /** Most blocks per read (the RPC's cap, `MAX_LOG_RANGE`). */
  maxRange?: bigint | undefined
  /** One bounded read, e.g. `(r) => client.getContractEvents({ ...filter, ...r })`. */
  read: (range: BlockRange) => Promise<readonly T[]>
  /** `backward` reads the newest blocks first: for "the latest such event" lookups. */
  direction?: 'forward' | 'backward' | undefined
  /** Stops once a read returned something that satisfies it (the result so far is returned). */
  stop?: ((found: readonly NoInfer<T>[]) => boolean) | undefined
}

export type GetLogsInRangesReturnType<T> = T[]

/**
 * Whether an RPC refused a log read for its size. Hosted providers word it each their own way
 * ("block range is too large", "query returned more than 10000 results", "exceed maximum block
 * range", "Log response size exceeded"...); a false positive only costs a few narrower reads
 * before the error is thrown anyway, a false negative halts every reader.
 */
function isRangeTooLarge(error: unknown): boolean {
  // -32005: EIP-1474's "limit exceeded", what most providers answer.
  if (codes(error).includes(-32005)) return true
  const text = errorText(error)
  return /range|too (many|large|big)|more than \d+|limit exceeded|size exceeded|result window|max(imum)? (block|results)/i.test(
    text,
  )
}

function codes(error: unknown): unknown[] {
  const out: unknown[] = []
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 8; i++) {
    out.push(e.code)
    e = e.cause as typeof e
  }
  return out
}

function errorText(error: unknown): string {
  const parts: string[] = []
  for (
    let e = error as { message?: unknown; details?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 8;
    i++
  ) {
    if (typeof e.message === 'string') parts.push(e.message)
    if (typeof e.details === 'string') parts.push(e.details)
    e = e.cause as typeof e
  }
  return parts.join(' | ')
}

/**
 * Reads logs over [fromBlock, toBlock] in spans of at most `maxRange` blocks, so an RPC that caps
 * log ranges never halts the reader; a span the RPC still refuses as too large is halved (and the
 * smaller span kept for the rest of the walk) down to one block, past which the error is thrown.
 * Results come in block order whatever the direction.
 *
 * @example
 * const logs = await getLogsInRanges(client, {
 *   fromBlock: deployment.blocks.collector,
 *   maxRange: 500n,
 *   read: (r) => client.getContractEvents({ address, abi, eventName: 'Collected', ...r }),
 * })
 */
export async function getLogsInRanges<T>(
  client: { getBlockNumber: (a?: { cacheTime?: number }) => Promise<bigint> },
  p: GetLogsInRangesParameters<T>,
): Promise<GetLogsInRangesReturnType<T>> {
  const to = p.toBlock ?? (await client.getBlockNumber({ cacheTime: 0 }))
  const backward = p.direction === 'backward'
  let span = p.maxRange !== undefined && p.maxRange > 0n ? p.maxRange : defaultMaxLogRange
  const chunks: (readonly T[])[] = []
  let lo = p.fromBlock
  let hi = to
  while (lo <= hi) {
    const range = backward
      ? { fromBlock: hi - span + 1n > lo ? hi - span + 1n : lo, toBlock: hi }
      : { fromBlock: lo, toBlock: lo + span - 1n < hi ? lo + span - 1n : hi }
    let found: readonly T[]
    try {
      found = await p.read(range)
    } catch (error) {
      const width = range.toBlock - range.fromBlock + 1n
      if (width <= 1n || !isRangeTooLarge(error)) throw error
      span = width / 2n
      continue
    }
    if (backward) {
      chunks.unshift(found)
      hi = range.fromBlock - 1n
    } else {
      chunks.push(found)
      lo = range.toBlock + 1n
    }
    if (found.length > 0 && p.stop?.(found)) break
  }
  return chunks.flat()
}
