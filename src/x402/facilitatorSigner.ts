import type { FacilitatorEvmSigner } from '@x402/evm'
import type { Abi, Address, Hex, PublicClient } from 'viem'

/** Where Multicall3 lives on every chain that has it (the x402 verifier batches reads there). */
const MULTICALL3 = '0xcA11bde05977b3631167028862bE2a173976CA11'

/**
 * Multicall3's `tryAggregate(false, calls)` done one `eth_call` at a time, same answer shape:
 * for a chain without Multicall3 (a fresh anvil).
 */
async function tryAggregate(reader: PublicClient, calls: { target: Address; callData: Hex }[]) {
  return Promise.all(
    calls.map(async (c) => {
      try {
        const r = await reader.call({ to: c.target, data: c.callData })
        return { success: true, returnData: r.data ?? '0x' }
      } catch {
        return { success: false, returnData: '0x' as Hex }
      }
    }),
  )
}

/**
 * The x402 facilitator's view of the chain, for verification only: reads, signature checks and
 * code, from our reader. It never sends — settlement goes through the operator wallet, which
 * records every transaction before broadcasting it — so its write methods refuse.
 */
export function facilitatorSigner(reader: PublicClient, operator: Address): FacilitatorEvmSigner {
  let multicallDeployed: Promise<boolean> | undefined
  const refuse = () => Promise.reject(new Error('the x402 verifier never sends transactions'))
  return {
    getAddresses: () => [operator],
    async readContract(args) {
      if (args.address.toLowerCase() === MULTICALL3.toLowerCase()) {
        multicallDeployed ??= reader
          .getCode({ address: MULTICALL3 })
          .then((c) => c !== undefined && c !== '0x')
        if (!(await multicallDeployed) && args.functionName === 'tryAggregate')
          return tryAggregate(
            reader,
            (args.args?.[1] ?? []) as { target: Address; callData: Hex }[],
          )
      }
      return reader.readContract({
        address: args.address,
        abi: args.abi as Abi,
        functionName: args.functionName,
        args: args.args ?? [],
      })
    },
    verifyTypedData: (args) => reader.verifyTypedData(args as never),
    writeContract: refuse,
    sendTransaction: refuse,
    waitForTransactionReceipt: refuse,
    getCode: (args) => reader.getCode(args),
  }
}
