import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import {
  type Account,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type TypedDataDefinition,
  toHex,
} from 'viem'
import { foundry } from 'viem/chains'
import type { AppContext } from '../../src/api/context.js'
import type { TestChain } from '../fixtures.js'

/** Where browser tests leave their screenshots. */
export const screenshotDir = join(process.cwd(), 'test-results', 'screenshots')

/**
 * Debian's Chromium, headless. The network flags keep it from calling home: this machine's
 * network is closed and every refused connection would slow the page down.
 */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(screenshotDir, { recursive: true })
  return await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export type TestWalletParameters = {
  /** The account that signs: a local key, or a smart account with the same signing methods. */
  account: Account
  rpcUrl: string
  chainId?: number
  /** Called for every request the page makes, to assert on prompts. */
  onRequest?: (method: string, params: unknown) => void
}

/**
 * Lets a test misbehave as a compromised or confused wallet would: change the typed data
 * before signing (another chain, another subscription, an old deadline), or sign with
 * another key than the connected account's.
 */
export type TestWalletControl = {
  tamper: ((typed: TypedDataDefinition) => TypedDataDefinition) | undefined
  signer: Account | undefined
  /** Every typed-data signature the wallet gave, in order (to replay one). */
  signatures: Hex[]
}

/**
 * Injects `window.ethereum` (EIP-1193) into every page of `page`'s context, answered on the
 * Node side by `account`: the page talks to it exactly as to an injected browser wallet.
 */
export async function injectTestWallet(
  page: Page,
  parameters: TestWalletParameters,
): Promise<TestWalletControl> {
  const { account, rpcUrl, onRequest } = parameters
  const control: TestWalletControl = { tamper: undefined, signer: undefined, signatures: [] }
  const chainId = parameters.chainId ?? foundry.id
  const wallet = createWalletClient({
    account,
    chain: { ...foundry, id: chainId },
    transport: http(rpcUrl),
  })
  const rpc = async (method: string, params: unknown) => {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params ?? [] }),
    })
    const json = (await res.json()) as { result?: unknown; error?: { message: string } }
    if (json.error) throw new Error(json.error.message)
    return json.result
  }
  const handle = async (method: string, params: unknown[]): Promise<unknown> => {
    onRequest?.(method, params)
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [account.address]
      case 'eth_chainId':
        return toHex(chainId)
      case 'wallet_switchEthereumChain':
        return null
      case 'eth_signTypedData_v4': {
        const typed = JSON.parse(params[1] as string) as TypedDataDefinition & {
          types: Record<string, unknown>
        }
        const { EIP712Domain: _, ...types } = typed.types
        let definition = { ...typed, types } as TypedDataDefinition
        if (control.tamper) definition = control.tamper(definition)
        const signature = await wallet.signTypedData({
          ...definition,
          ...(control.signer ? { account: control.signer } : {}),
        } as Parameters<typeof wallet.signTypedData>[0])
        control.signatures.push(signature)
        return signature
      }
      case 'personal_sign':
        return await wallet.signMessage({
          message: { raw: params[0] as Hex },
          ...(control.signer ? { account: control.signer } : {}),
        })
      case 'eth_sendTransaction': {
        const tx = params[0] as { to: Hex; data?: Hex; value?: Hex }
        return await wallet.sendTransaction({
          to: tx.to,
          data: tx.data,
          value: tx.value ? BigInt(tx.value) : undefined,
        })
      }
      default:
        return await rpc(method, params)
    }
  }
  await page.exposeFunction('__tollgateTestWallet', async (method: string, params: unknown[]) => {
    try {
      return { result: await handle(method, params ?? []) }
    } catch (error) {
      return {
        error: { code: 4001, message: error instanceof Error ? error.message : String(error) },
      }
    }
  })
  await page.addInitScript(() => {
    const call = (
      window as unknown as Record<
        string,
        (
          m: string,
          p: unknown,
        ) => Promise<{ result?: unknown; error?: { code: number; message: string } }>
      >
    ).__tollgateTestWallet!
    const listeners = new Map<string, Set<(...args: unknown[]) => void>>()
    ;(window as unknown as { ethereum: unknown }).ethereum = {
      isTollgateTestWallet: true,
      request: async ({ method, params }: { method: string; params?: unknown[] }) => {
        const answer = await call(method, params ?? [])
        if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error)
        return answer.result
      },
      on: (event: string, fn: (...args: unknown[]) => void) => {
        if (!listeners.has(event)) listeners.set(event, new Set())
        listeners.get(event)!.add(fn)
      },
      removeListener: (event: string, fn: (...args: unknown[]) => void) =>
        listeners.get(event)?.delete(fn),
    }
  })
  return control
}

/** Gives an in-process API (test/api/server.ts) the test chain, as `tollgate dev` does. */
export function attachChain(api: { ctx: AppContext }, chain: TestChain) {
  api.ctx.chain = {
    reader: chain.deployer as unknown as PublicClient,
    chainId: chain.deployment.chainId,
    usdc: chain.deployment.usdc,
    collector: chain.deployment.collector,
    deployment: chain.deployment,
    operator: chain.operator,
  }
}

/**
 * The owner on their manage page: a 1280×900 page with the test wallet of `owner`, signed in
 * through the page's own Connect button.
 *
 * @example
 * const page = await openManageSignedIn(browser, { url: api.url, sub, owner, chain })
 */
export async function openManageSignedIn(
  browser: Browser,
  p: { url: string; sub: string; owner: Account; chain: Pick<TestChain, 'rpcUrl'> },
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  await injectTestWallet(page, { account: p.owner, rpcUrl: p.chain.rpcUrl })
  await page.goto(`${p.url}/s/${p.sub}`)
  await page.click('#connect')
  return page
}
