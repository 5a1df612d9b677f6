import { onTestFinished } from 'vitest'
import type { Db } from '../../src/db/client.js'
import { signUp, startApi } from '../api/server.js'
import { connectMcp } from '../mcp/client.js'

/**
 * The set-up of an MCP test: the API in-process (with `env`), a fresh org signed up on it, and
 * the SDK's client connected to `/mcp` with the org's key. The API stops when the test ends,
 * however it ends; the test closes the client.
 *
 * @example
 * const { api, org, mcp } = await startMcpOrg(db, { SIGNUP_CREDIT_MICROS: '20000' })
 */
export async function startMcpOrg(db: Db, env: Record<string, string> = {}) {
  const api = await startApi(db, env)
  onTestFinished(() => api.stop())
  const org = await signUp(api)
  const mcp = await connectMcp(api.url, org.api_key)
  return { api, org, mcp }
}
