import { ContractFunctionRevertedError, BaseError as ViemBaseError } from 'viem'

/** The contract's custom error name from a failed call or write (`PermitNonceUsed`), if any. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof ViemBaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined
}
