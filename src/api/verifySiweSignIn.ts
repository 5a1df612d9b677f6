import type { Request } from 'express'
import { type Address, getAddress, verifyMessage } from 'viem'
import { parseSiweMessage, validateSiweMessage } from 'viem/siwe'
import { ValidationError } from '../core/errors.js'
import type { AppContext } from './context.js'
import { UnauthorizedError } from './keys.js'
import { consumeSiweNonce } from './sessions.js'

/**
 * Checks a Sign-In with Ethereum (EIP-4361) message and its signature, as the dashboard and the
 * manage page both sign in: a nonce we issued (consumed once), within its validity, naming this
 * site, signed by the address it names (ERC-1271/6492 too when a chain is configured).
 */
export async function verifySiweSignIn(
  ctx: AppContext,
  req: Request,
  body: { message: string; signature: string },
): Promise<Address> {
  const message = parseSiweMessage(body.message)
  if (!message.address || !message.nonce)
    throw new ValidationError('not a sign-in-with-ethereum message')
  const used = await consumeSiweNonce(ctx.db, message.nonce)
  if (!used || !validateSiweMessage({ message }))
    throw new UnauthorizedError('the sign-in message is expired, not yet valid or already used')
  // The message must name this service, so a signature a look-alike site collected (with a
  // nonce it fetched from us) cannot sign in here. Outside production the host the browser
  // used is accepted too (local ports differ from PUBLIC_BASE_URL).
  const hosts = [new URL(ctx.config.product.publicBaseUrl).host]
  if (ctx.config.env !== 'production' && req.get('host')) hosts.push(req.get('host')!)
  if (!message.domain || !hosts.includes(message.domain))
    throw new UnauthorizedError(`the sign-in message is for another site (${hosts[0]} expected)`)
  const address = getAddress(message.address)
  const signature = body.signature as `0x${string}`
  const ok = ctx.chain
    ? await ctx.chain.reader.verifySiweMessage({ message: body.message, signature })
    : await verifyMessage({ address, message: body.message, signature })
  if (!ok) throw new UnauthorizedError('that signature is not from this wallet')
  return address
}
