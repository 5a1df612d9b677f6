import { type Address, type Hex, pad } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { usdcAbi } from '../../src/chain/abis.js'
import { createSigner } from '../../src/chain/clients.js'
import { deployContracts } from '../../src/chain/deployContracts.js'

/** FiatTokenProxy's storage slots (zeppelinos AdminUpgradeabilityProxy). */
const implementationSlot: Hex = '0x7050c9e0f4ca769c69bd3a8ef740bc37934f8e2c036e5a723fd8ee048ed3f8c3'
const adminSlot: Hex = '0x10d6a54a4754c8869d6886b5f5d7fbfa5b4522237ea5c60d11bc4e7a1ff9390b'

async function rpc(url: string, method: string, params: unknown[]) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
}

/**
 * Puts real USDC (FiatToken v2.2 behind its proxy) at a fixed address on an anvil — Circle's
 * address on the chain being stood in for — so a deploy that defaults to Circle's token finds
 * it there. The proxy's code is placed at `at` (anvil_setCode), pointed at a freshly deployed
 * implementation, and initialized the way Circle does; `minter` (a key) holds every role but the
 * proxy admin, so `mintUsdc` with its client stands in for a faucet. `name` is the token's
 * EIP-712 name (Circle's differs between chains).
 */
export async function placeUsdcAt(
  rpcUrl: string,
  p: { at: Address; minterKey: Hex; name: string },
): Promise<void> {
  const client = await createSigner(rpcUrl, p.minterKey)
  const me = privateKeyToAccount(p.minterKey).address
  // A whole local USDC, for its proxy code, implementation and proxy admin.
  const local = await deployContracts(client, { payee: me, admin: me, operators: [] })
  const read = (slot: Hex) => client.getStorageAt({ address: local.usdc, slot })
  await rpc(rpcUrl, 'anvil_setCode', [p.at, await client.getCode({ address: local.usdc })])
  for (const slot of [implementationSlot, adminSlot])
    await rpc(rpcUrl, 'anvil_setStorageAt', [p.at, slot, (await read(slot)) ?? pad('0x0')])
  const send = async (request: Parameters<typeof client.writeContract>[0]) => {
    const hash = await client.writeContract(request)
    const receipt = await client.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`${request.functionName} reverted`)
  }
  const usdc = { address: p.at, abi: usdcAbi } as const
  await send({
    ...usdc,
    functionName: 'initialize',
    args: [p.name, 'USDC', 'USD', 6, me, me, me, me],
  })
  await send({ ...usdc, functionName: 'initializeV2', args: [p.name] })
  await send({ ...usdc, functionName: 'initializeV2_1', args: [me] })
  await send({ ...usdc, functionName: 'initializeV2_2', args: [[], 'USDC'] })
}
