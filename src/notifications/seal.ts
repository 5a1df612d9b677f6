import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import type { Secret } from '../config/secret.js'

const keyOf = (key: Secret, purpose: string) =>
  createHash('sha256').update(`tollgate:${purpose}:`).update(key.reveal()).digest()

/** Seals a value (a webhook signing secret) for storage: AES-256-GCM, `v1.<iv>.<tag>.<data>`. */
export function seal(key: Secret, value: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyOf(key, 'seal'), iv)
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()])
  return ['v1', iv, cipher.getAuthTag(), data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.')
}

/** Opens what `seal` sealed (throws if it was tampered with or sealed under another key). */
export function unseal(key: Secret, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.')
  if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed value')
  const decipher = createDecipheriv('aes-256-gcm', keyOf(key, 'seal'), Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([
    decipher.update(Buffer.from(data, 'base64url')),
    decipher.final(),
  ]).toString('utf8')
}

/** A new Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`
