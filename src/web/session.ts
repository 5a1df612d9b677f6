import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../config/index.js'

// Manage sessions and manage-link tokens are HMAC-signed, short-lived bearer strings:
// `<subscription>.<address|link>.<expires>.<mac>`. Every process that mints or checks them
// (API nodes, the CLI) shares the key: MANAGE_TOKEN_SECRET, else one kept in the data folder.
let secret: string | undefined
function key(): string {
  if (secret) return secret
  if (process.env.MANAGE_TOKEN_SECRET) {
    secret = process.env.MANAGE_TOKEN_SECRET
    return secret
  }
  const dir = process.env.TOLLGATE_DATA_DIR ?? join(projectRoot, '.tollgate')
  const file = join(dir, 'manage-token-secret')
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true })
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' })
    } catch {
      // Another process created it first: use theirs.
    }
  }
  secret = readFileSync(file, 'utf8').trim()
  return secret
}

const mac = (payload: string) => createHmac('sha256', key()).update(payload).digest('base64url')

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
