import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import type { Db } from '../../src/db/client.js'
import { startApi } from '../api/server.js'
import { attachChain } from '../browser/browser.js'
import type { TestChain } from '../fixtures.js'

export type StartOwnedOrgParameters = {
  /** The org's name. */
  name: string
  /** USDC (micro-dollars) minted to the owner's wallet before the org is made. */
  usdc?: bigint
}

/**
 * The set-up of an owner's browser test: an API on the test chain and an org owned by a fresh
 * wallet (with USDC when asked), as `POST /v1/orgs` answers it (`api_key`, `subscription_id`…).
 *
 * @example
 * const { api, owner, org } = await startOwnedOrg(db, chain, { name: 'Dash' })
 */
export async function startOwnedOrg(db: Db, chain: TestChain, p: StartOwnedOrgParameters) {
  const api = await startApi(db)
  attachChain(api, chain)
  const owner = privateKeyToAccount(generatePrivateKey())
  if (p.usdc !== undefined)
    await mintUsdc(chain.deployer, chain.deployment, { to: owner.address, amount: p.usdc })
  const org = (
    await api.call('POST', '/v1/orgs', { body: { name: p.name, owner_address: owner.address } })
  ).json
  return { api, owner, org }
}
