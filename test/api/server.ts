import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { LocalAccount } from 'viem/accounts'
import { expect } from 'vitest'
import { createApp } from '../../src/api/app.js'
import type { AppContext } from '../../src/api/context.js'
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/core/log.js'
import type { Db } from '../../src/db/client.js'
import { createMeter } from '../../src/ledger/index.js'
import { siweMessage } from '../support/siweMessage.js'

/**
 * The API in-process on a free port, against the test database. Every test client is
 * 127.0.0.1, so the per-address sign-up limit is lifted unless a test sets `rateLimits`.
 */
export async function startApi(
  db: Db,
  env: Record<string, string> = {},
  overrides: Pick<AppContext, 'rateLimits'> = {},
) {
  const config = loadConfig({
    PUBLIC_BASE_URL: 'https://tollgate.test',
    DASHBOARD_URL: 'https://dash.tollgate.test',
    ...env,
  })
  const log = createLogger((process.env.TEST_LOG as 'silent') ?? 'silent')
  const meter = createMeter(db, { rateCard: config.rateCard, product: config.product, log })
  const ctx: AppContext = {
    config,
    db,
    log,
    chain: undefined,
    meter,
    rateLimits: { signupsPerIpPerHour: 1_000_000, ...overrides.rateLimits },
  }
  const server: Server = await new Promise((ok) => {
    const s = createApp(ctx).listen(0, '127.0.0.1', () => ok(s))
  })
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const call = async (
    method: string,
    path: string,
    p: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(p.body !== undefined || p.raw !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
        ...(p.key ? { authorization: `Bearer ${p.key}` } : {}),
        ...p.headers,
      },
      body: p.raw ?? (p.body === undefined ? undefined : JSON.stringify(p.body)),
    })
    const text = await res.text()
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
    let json: any
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.status, json, text, headers: res.headers }
  }
  return {
    url,
    call,
    ctx,
    stop: async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      await meter.close()
    },
  }
}

/**
 * Signs `wallet` in as its org's owner with Sign-In with Ethereum (EIP-4361) against the test
 * domain; returns the owner session's token.
 */
export async function signInWithSiwe(
  api: Pick<Awaited<ReturnType<typeof startApi>>, 'call'>,
  wallet: LocalAccount,
): Promise<string> {
  const nonce = (await api.call('GET', '/v1/auth/nonce')).json.nonce
  const message = siweMessage(wallet.address, nonce)
  const signIn = await api.call('POST', '/v1/auth/siwe', {
    body: { message, signature: await wallet.signMessage({ message }) },
  })
  return signIn.json.token as string
}

type Api = Awaited<ReturnType<typeof startApi>>

/**
 * Signs up a fresh org over `POST /v1/orgs` (its owner a random address unless given) and
 * checks the 201; returns the answer.
 */
export async function signUp(
  api: Pick<Api, 'call'>,
  ownerAddress = `0x${randomBytes(20).toString('hex')}`,
) {
  const res = await api.call('POST', '/v1/orgs', {
    body: { name: 'Test org', owner_address: ownerAddress },
  })
  expect(res.status).toBe(201)
  return res.json as { org: { id: string }; subscription_id: string; api_key: string }
}

/** The org's ledger lines, to see that a refused request wrote none. */
export async function ledgerLines(api: Pick<Api, 'ctx'>, orgId: string): Promise<number> {
  const [row] = await api.ctx.db.$client<{ n: number }[]>`
    select count(*)::int as n from ledger_entries where org_id = ${orgId}`
  return row!.n
}

/** The org's usage rows and ledger lines together: a free request adds neither. */
export async function usageAndLedgerLines(api: Pick<Api, 'ctx'>, orgId: string): Promise<number> {
  const [row] = await api.ctx.db.$client<{ n: number }[]>`
    select (select count(*) from ledger_entries where org_id = ${orgId})::int
         + (select count(*) from usage where org_id = ${orgId})::int as n`
  return row!.n
}
