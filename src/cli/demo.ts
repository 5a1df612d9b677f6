import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import type { AppContext } from '../api/context.js'
import { createOrg } from '../api/createOrg.js'
import { authorizeLocalOwner } from './authorizeLocalOwner.js'

/** anvil's key 3: the demo org's owner wallet (a public test key, local chain only). */
const DEMO_OWNER_KEY = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6' as const

/** Where `tollgate dev` mails the demo owner's notices (caught locally, shown at /dev/mail). */
export const DEMO_OWNER_EMAIL = 'owner@demo.localhost'

export type DemoOrg = { orgId: string; subscriptionId: string; apiKey: string; owner: string }

/**
 * The demo org `tollgate dev` brings up on a local chain: owned by anvil's key 3, funded with
 * 100 test USDC, authorized on-chain for a $50 cap by the owner's own signatures (permit and
 * terms, as a first authorization takes: `authorizeLocalOwner`).
 * Kept in the data folder, so a restart reuses it.
 */
export async function ensureDemoOrg(
  ctx: Pick<AppContext, 'db' | 'config'> & { chain: NonNullable<AppContext['chain']> },
  rpcUrl: string,
): Promise<DemoOrg> {
  const file = join(ctx.config.dataDir, 'demo.json')
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoOrg
    const [row] = await ctx.db.$client`select 1 from orgs where id = ${saved.orgId}`
    if (row) return saved
  }
  const chain = ctx.chain
  const owner = privateKeyToAccount(DEMO_OWNER_KEY)
  const org = await createOrg(ctx.db, {
    name: 'Demo org',
    ownerAddress: owner.address,
    signupCreditMicros: ctx.config.billing.signupCreditMicros,
    creditsPerOwner: Number.MAX_SAFE_INTEGER,
  })
  await authorizeLocalOwner(
    { db: ctx.db, config: ctx.config, chain },
    {
      orgId: org.orgId,
      subscriptionId: org.subscriptionId,
      ownerKey: DEMO_OWNER_KEY,
      cap: 50_000_000n,
      rpcUrl,
    },
  )
  const demo = {
    orgId: org.orgId,
    subscriptionId: org.subscriptionId,
    apiKey: org.apiKey,
    owner: owner.address,
  }
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 })
  return demo
}
