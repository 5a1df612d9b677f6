import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config/index.js'

// Manage sessions and manage-link tokens are HMAC-signed, short-lived bearer strings:
// `<subscription>.<address|link>.<expires>.<mac>`. Every process that mints or checks them
// (API nodes, the CLI) shares the key: MANAGE_TOKEN_SECRET, else one kept in the data folder
// (docs/operations.md, Configuration).

/** What the key is found from: `MANAGE_TOKEN_SECRET`, else the data folder. */
export type ManageTokenConfig = Pick<Config, 'manageTokenSecret' | 'dataDir'>

const keys = new WeakMap<ManageTokenConfig, string>()
function key(config: ManageTokenConfig): string {
  const known = config.manageTokenSecret?.reveal() ?? keys.get(config)
  if (known) return known
  const file = join(config.dataDir, 'manage-token-secret')
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true })
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' })
    } catch {
      // Another process created it first: use theirs.
    }
  }
  const secret = readFileSync(file, 'utf8').trim()
  keys.set(config, secret)
  return secret
}

const mac = (config: ManageTokenConfig, payload: string) =>
  createHmac('sha256', key(config)).update(payload).digest('base64url')

/** A token proving `who` may manage `subscriptionId` until `ttlSeconds` from now. */
export function signManageToken(
  config: ManageTokenConfig,
  subscriptionId: string,
  who: string,
  ttlSeconds = 900,
): string {
  const payload = `${subscriptionId}.${who.toLowerCase()}.${Math.floor(Date.now() / 1000) + ttlSeconds}`
  return `${payload}.${mac(config, payload)}`
}

/** The holder (`address` or `link`) if the token is valid for `subscriptionId` and not expired. */
export function verifyManageToken(
  config: ManageTokenConfig,
  token: string | undefined,
  subscriptionId: string,
): string | undefined {
  if (!token) return undefined
  const parts = token.split('.')
  if (parts.length !== 4) return undefined
  const [sub, who, expires, given] = parts as [string, string, string, string]
  const expected = mac(config, `${sub}.${who}.${expires}`)
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  )
    return undefined
  if (sub !== subscriptionId || Number(expires) < Date.now() / 1000) return undefined
  return who
}
