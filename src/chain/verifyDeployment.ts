import {
  type Address,
  getAddress,
  type Hex,
  hashDomain,
  isAddressEqual,
  type PublicClient,
} from 'viem'
import { collectorAbi } from './abis.js'
import type { Deployment } from './deployment.js'

const tokenAbi = [
  {
    type: 'function',
    name: 'name',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ type: 'string' }],
  },
  {
    type: 'function',
    name: 'version',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ type: 'string' }],
  },
  {
    type: 'function',
    name: 'DOMAIN_SEPARATOR',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ type: 'bytes32' }],
  },
] as const

/** The token's EIP-712 domain as the chain states it. */
export type TokenDomain = {
  name: string
  version: string
  chainId: number
  verifyingContract: Address
}

/**
 * Checks a deployment against the chain: code at the token, the collector and the validator;
 * the collector's immutables (token, payee, validator) and admin and operators as recorded;
 * and the token's EIP-712 domain (`name()`, `version()`, the chain id) hashing to the token's
 * own `DOMAIN_SEPARATOR()` — the domain every owner's permit is signed over. Throws naming
 * each difference; returns the domain.
 */
export async function verifyDeployment(
  reader: PublicClient,
  deployment: Deployment,
): Promise<TokenDomain> {
  const problems: string[] = []
  const chainId = await reader.getChainId()
  if (chainId !== deployment.chainId)
    problems.push(`the node is on chain ${chainId}, the deployment on ${deployment.chainId}`)
  for (const [what, address] of [
    ['token', deployment.usdc],
    ['collector', deployment.collector],
    ['validator', deployment.validator],
  ] as const) {
    const code = await reader.getCode({ address })
    if (!code || code === '0x') problems.push(`no code at the ${what} ${address}`)
  }
  if (problems.length > 0) throw new Error(`deployment does not verify: ${problems.join('; ')}`)
  const read = (functionName: 'TOKEN' | 'PAYEE' | 'VALIDATOR' | 'admin') =>
    reader.readContract({
      address: deployment.collector,
      abi: collectorAbi,
      functionName,
    }) as Promise<Address>
  const expect = [
    ['TOKEN()', await read('TOKEN'), deployment.usdc],
    ['PAYEE()', await read('PAYEE'), deployment.payee],
    ['VALIDATOR()', await read('VALIDATOR'), deployment.validator],
    ['admin()', await read('admin'), deployment.admin],
  ] as const
  for (const [what, got, want] of expect)
    if (!isAddressEqual(got, want)) problems.push(`collector ${what} is ${got}, expected ${want}`)
  for (const operator of deployment.operators) {
    const ok = await reader.readContract({
      address: deployment.collector,
      abi: collectorAbi,
      functionName: 'isOperator',
      args: [operator],
    })
    if (!ok) problems.push(`${operator} is not an operator of the collector`)
  }
  const token = (functionName: 'name' | 'version' | 'DOMAIN_SEPARATOR') =>
    reader.readContract({ address: deployment.usdc, abi: tokenAbi, functionName })
  const domain: TokenDomain = {
    name: (await token('name')) as string,
    version: (await token('version')) as string,
    chainId,
    verifyingContract: getAddress(deployment.usdc),
  }
  const separator = (await token('DOMAIN_SEPARATOR')) as Hex
  const computed = hashDomain({
    domain: { ...domain, chainId: BigInt(chainId) },
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
    },
  })
  if (computed !== separator)
    problems.push(
      `the token's DOMAIN_SEPARATOR ${separator} is not its domain ${JSON.stringify(domain)} (${computed})`,
    )
  if (problems.length > 0) throw new Error(`deployment does not verify: ${problems.join('; ')}`)
  return domain
}
