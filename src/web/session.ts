import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// Manage sessions and manage-link tokens are HMAC-signed, short-lived bearer strings:
// `<subscription>.<address|link>.<expires>.<mac>`. The key is per process unless configured.
const secret = process.env.MANAGE_TOKEN_SECRET ?? randomBytes(32).toString('hex')

const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url')

/** A token proving `who` may manage `subscriptionId` until `ttlSeconds` from now. */
export function signManageToken(subscriptionId: string, who: string, ttlSeconds = 900): string {
  const payload = `${subscriptionId}.${who.toLowerCase()}.${Math.floor(Date.now() / 1000) + ttlSeconds}`
  return `${payload}.${mac(payload)}`
}

/** The holder (`address` or `link`) if the token is valid for `subscriptionId` and not expired. */
export function verifyManageToken(
  token: string | undefined,
  subscriptionId: string,
): string | undefined {
  if (!token) return undefined
  const parts = token.split('.')
  if (parts.length !== 4) return undefined
  const [sub, who, expires, given] = parts as [string, string, string, string]
  const expected = mac(`${sub}.${who}.${expires}`)
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  )
    return undefined
  if (sub !== subscriptionId || Number(expires) < Date.now() / 1000) return undefined
  return who
}
