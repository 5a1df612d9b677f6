import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { anvilKeys } from '../../src/config/index.js'
import { describe, expect, startTestChain, type TestChain, test } from '../fixtures.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { tollgate } from './run.js'

const envFor = (chain: TestChain, name: string) => {
  const file = join(tmpdir(), `tg-cli-fund-${name}-${process.pid}.json`)
  writeFileSync(file, JSON.stringify(chain.deployment))
  return { RPC_URL: chain.rpcUrl, DEPLOYMENT_FILE: file, DEPLOYER_KEY: anvilKeys[0] }
}

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy machine).
describe('tollgate fund', { timeout: 180_000 }, () => {
  test('mints test USDC to a new wallet on the local chain; bad input mints nothing', async ({
    chain,
  }) => {
    const env = envFor(chain, 'local')
    const wallet = privateKeyToAccount(`0x${'7'.repeat(64)}`).address
    const before = await usdcBalance(chain, wallet)
    const funded = await tollgate(['fund', wallet.toLowerCase(), '25.5', '--json'], env)
    expect(funded.stderr).toBe('')
    expect(funded.code).toBe(0)
    expect(JSON.parse(funded.stdout)).toEqual({
      address: wallet,
      minted_micros: '25500000',
      balance_micros: (before + 25_500_000n).toString(),
      chain_id: 31337,
    })
    expect(await usdcBalance(chain, wallet)).toBe(before + 25_500_000n)

    for (const args of [
      ['fund', '0x1234', '5'],
      ['fund', wallet, 'five'],
      ['fund', wallet, '0'],
      ['fund', wallet, '1.0000001'],
      ['fund', wallet, '5000000'],
    ]) {
      const r = await tollgate(args, env)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/^VALIDATION_FAILED: .+\n$/)
    }
    expect(await usdcBalance(chain, wallet)).toBe(before + 25_500_000n)
  })

  test('refused in one sentence on any other chain (here: an anvil that says it is Base Sepolia)', async () => {
    const sepolia = await startTestChain({ chainId: 84532 })
    try {
      const wallet = privateKeyToAccount(`0x${'8'.repeat(64)}`).address
      const r = await tollgate(['fund', wallet, '5'], envFor(sepolia, 'sepolia'))
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(
        /^tollgate fund mints test USDC on the local chain only .+ is chain 84532, .+\n$/,
      )
      expect(await usdcBalance(sepolia, wallet)).toBe(0n)
    } finally {
      await sepolia.anvil.stop()
    }
  })
})
