// The owner's side of the manage page, from a wallet key, for a smoke test with a test wallet
// whose key you hold (docs/operations.md § Deploying on Base Sepolia): signs in (Sign-In with
// Ethereum), asks the page for the permit and terms, signs both and sends them — the same routes
// and signatures a browser wallet goes through. Real owners use the manage page itself.
//
//   OWNER_KEY=0x… node --import tsx scripts/ownerAuthorize.ts <manage link> <lifetime cap, dollars>
import { type Hex, isHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'

type Typed = {
  domain: Record<string, unknown>
  types: Record<string, Array<{ name: string; type: string }>>
  primaryType: string
  message: Record<string, string>
}

function fail(message: string): never {
  process.stderr.write(`ownerAuthorize: ${message}\n`)
  process.exit(1)
}

const [link, cap] = process.argv.slice(2)
const key = process.env.OWNER_KEY
if (!link || !cap || !/^\d{1,9}(\.\d{1,6})?$/.test(cap))
  fail('usage: OWNER_KEY=0x… ownerAuthorize.ts <manage link> <lifetime cap in dollars, e.g. 5>')
if (!key || !isHex(key) || key.length !== 66)
  fail('OWNER_KEY must be the owner wallet’s 0x-prefixed 32-byte private key')
const url = new URL(link)
const id = /^\/s\/([0-9a-f]{32})$/.exec(url.pathname)?.[1] ?? fail(`${link} is not a manage link`)
const owner = privateKeyToAccount(key as Hex)
const page = `${url.origin}/s/${id}`
let cookie = ''

async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${page}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', origin: url.origin, cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) fail(`${path} answered ${res.status}: ${text}`)
  const set = res.headers.get('set-cookie')
  if (set) cookie = set.split(';')[0]!
  return JSON.parse(text) as T
}

/** The page's typed data as JSON (integers as strings) back into what the wallet signs. */
function signTyped(t: Typed) {
  const fields = t.types[t.primaryType] ?? []
  const message = Object.fromEntries(
    Object.entries(t.message).map(([k, v]) => {
      const type = fields.find((f) => f.name === k)?.type ?? ''
      return [k, /^u?int/.test(type) ? BigInt(v) : v]
    }),
  )
  const { EIP712Domain: _, ...types } = t.types
  return owner.signTypedData({
    domain: { ...t.domain, chainId: Number(t.domain.chainId) },
    types,
    primaryType: t.primaryType,
    message,
  } as Parameters<typeof owner.signTypedData>[0])
}

const challenge = await call<{ nonce: string; chain_id: number }>('/challenge')
const message = createSiweMessage({
  domain: url.host,
  address: owner.address,
  statement: `Sign in to manage subscription ${id}.`,
  uri: url.origin,
  version: '1',
  chainId: challenge.chain_id,
  nonce: challenge.nonce,
})
await call('/session', { message, signature: await owner.signMessage({ message }) })
const prepared = await call<{ permit?: Typed; terms?: Typed }>('/prepare', {
  action: 'authorize',
  cap,
})
if (!prepared.permit || !prepared.terms) fail('the page asked for no permit or no terms')
const p = prepared.permit.message
const t = prepared.terms.message
const done = await call<{ held: boolean; tx_hash: string | null; explorer_url?: string | null }>(
  '/authorize',
  {
    cap,
    permit: {
      value: p.value,
      deadline: p.deadline,
      nonce: p.nonce,
      signature: await signTyped(prepared.permit),
    },
    terms: {
      cap: t.cap,
      limit: t.limit,
      period: Number(t.period),
      nonce: Number(t.nonce),
      deadline: t.deadline,
      signature: await signTyped(prepared.terms),
    },
  },
)
process.stdout.write(
  done.held
    ? `authorized (held: the wallet is deployed with its first charge)\n`
    : `authorized: ${owner.address}, up to $${cap}, transaction ${done.tx_hash}${done.explorer_url ? ` (${done.explorer_url})` : ''}\n`,
)
