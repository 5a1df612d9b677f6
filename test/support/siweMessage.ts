import { createSiweMessage } from 'viem/siwe'

/**
 * The Sign-In with Ethereum (EIP-4361) message the test API accepts from `address` with
 * `nonce` (`GET /v1/auth/nonce`): anvil's chain and the `tollgate.test` domain unless named.
 *
 * @example
 * const message = siweMessage(wallet.address, nonce)
 */
export function siweMessage(address: `0x${string}`, nonce: string, domain = 'tollgate.test') {
  return createSiweMessage({
    address,
    chainId: 31337,
    domain,
    nonce,
    uri: `https://${domain}`,
    version: '1',
  })
}
