import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { expect, test } from 'vitest'
import { startAnvil } from '../../src/chain/anvil.js'
import { createReader } from '../../src/chain/clients.js'
import type { Deployment } from '../../src/chain/deployment.js'
import { verifyDeployment } from '../../src/chain/verifyDeployment.js'

function deploy(env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((ok) => {
    const child = spawn('node', ['--import', 'tsx', 'scripts/deploy.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => ok({ code, out }))
  })
}

// docs/operations.md's deployment, followed on a fresh anvil as if it were Base Sepolia: the
// token already exists (USDC=…), the deployer, payee, admin and operators are separate keys;
// the script reads everything back from the chain before it writes the deployment file.
test('scripts/deploy.ts deploys against an existing token and verifies it from the chain', async () => {
  const anvil = await startAnvil({ port: 0 })
  try {
    const tokenFile = join(tmpdir(), `tg-deploy-token-${Date.now()}.json`)
    // Stands in for Circle's USDC on Base Sepolia: a FiatToken deployed first.
    const first = await deploy({ RPC_URL: anvil.rpcUrl, DEPLOYMENT_FILE: tokenFile })
    expect(first.code, first.out).toBe(0)
    const usdc = (JSON.parse(readFileSync(tokenFile, 'utf8')) as Deployment).usdc

    const [payee, admin, op1, op2] = [1, 2, 3, 4].map(
      () => privateKeyToAccount(generatePrivateKey()).address,
    )
    const file = join(tmpdir(), `tg-deploy-${Date.now()}.json`)
    const run = await deploy({
      RPC_URL: anvil.rpcUrl,
      // anvil's account 3: a deployer that is neither admin, payee nor operator.
      DEPLOYER_KEY: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
      USDC: usdc,
      PAYEE: payee!,
      ADMIN: admin!,
      OPERATORS: `${op1},${op2}`,
      DEPLOYMENT_FILE: file,
    })
    expect(run.code, run.out).toBe(0)
    expect(run.out).toContain('verified: code at token, collector and validator')
    expect(run.out).toContain('"name":"USD Coin","version":"2","chainId":31337')
    const deployment = JSON.parse(readFileSync(file, 'utf8')) as Deployment
    expect(deployment).toMatchObject({ usdc, payee, admin, operators: [op1, op2], chainId: 31337 })

    // The check fails on a deployment file that does not match the chain.
    const reader = await createReader(anvil.rpcUrl)
    await expect(
      verifyDeployment(reader as never, { ...deployment, payee: admin! }),
    ).rejects.toThrow(/collector PAYEE\(\) is 0x[0-9a-fA-F]{40}, expected/)
    await expect(
      verifyDeployment(reader as never, { ...deployment, operators: [payee!] }),
    ).rejects.toThrow(/is not an operator of the collector/)
    await expect(
      verifyDeployment(reader as never, { ...deployment, validator: payee! }),
    ).rejects.toThrow(/no code at the validator/)
  } finally {
    await anvil.stop()
  }
}, 180_000)
