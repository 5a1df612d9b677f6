import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { type Address, type Hex, parseAbiItem, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, expect, inject, test } from 'vitest'
import { freePort, startAnvil } from '../../src/chain/anvil.js'
import { createReader, createSigner } from '../../src/chain/clients.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { databaseUrl } from '../setup/postgres.js'
import { placeUsdcAt } from '../support/usdcAt.js'
import { tollgate } from './run.js'

// docs/operations.md § Deploying on Base Sepolia, step by step — run as an operator runs it:
// every block marked `step` or `service`, in order, in one bash, as written, on a fresh anvil
// started as chain 84532 with real USDC at Circle's Base Sepolia address, against a fresh
// database. Only the lines the doc marks `# yours` are substituted (below, each with why); the
// faucets the doc sends the operator to are the only steps done here instead.

const circleUsdcBaseSepolia: Address = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
/** anvil's key 5: the stand-in USDC's master minter (our Circle faucet). */
const minterKey: Hex = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'

type Block = { kind: 'step' | 'service'; code: string }

/** The section's runnable blocks: fenced ```sh title="step"``` / ```sh title="service"```. */
function docBlocks(): Block[] {
  const doc = readFileSync('docs/operations.md', 'utf8')
  const start = doc.indexOf('## Deploying on Base Sepolia, step by step')
  const end = doc.indexOf('\n## ', start + 1)
  const section = doc.slice(start, end === -1 ? undefined : end)
  return [...section.matchAll(/```sh title="(step|service)"\n([\s\S]*?)```/g)].map((m) => ({
    kind: m[1] as Block['kind'],
    code: m[2]!,
  }))
}

/**
 * Replaces the value of each `export NAME=…  # yours…` line; every such line must be one of
 * `values` and every one of `values` must be such a line, so the substitution stays the one the
 * doc states.
 */
function substitute(blocks: Block[], values: Record<string, string>): Block[] {
  const seen = new Set<string>()
  const out = blocks.map((b) => ({
    ...b,
    code: b.code.replace(/^export ([A-Z_]+)=.*# yours.*$/gm, (_line, name: string) => {
      if (!(name in values)) throw new Error(`the doc marks ${name} "yours", the test has no value`)
      seen.add(name)
      return `export ${name}='${values[name]}'`
    }),
  }))
  const missing = Object.keys(values).filter((k) => !seen.has(k))
  if (missing.length > 0) throw new Error(`the doc no longer has # yours lines for ${missing}`)
  return out
}

const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const f of cleanups.reverse()) await f().catch(() => {})
})

/** Stops a service the script started: SIGTERM to its process group, SIGKILL after 10 s. */
async function stopGroup(pid: number) {
  const alive = () => {
    try {
      process.kill(-pid, 0)
      return true
    } catch {
      return false
    }
  }
  if (!alive()) return
  process.kill(-pid, 'SIGTERM')
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100))
  if (alive()) process.kill(-pid, 'SIGKILL')
}

test('docs/operations.md deploys and runs on a chain 84532 and collects a charge', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-opsdoc-'))
  chmodSync(dir, 0o755)
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))

  // The chain: anvil as Base Sepolia (chain 84532), Circle's USDC address holding real USDC
  // (FiatToken v2.2) named as Base Sepolia's is, then a block a second as on a live chain.
  const anvil = await startAnvil({ chainId: 84532 })
  cleanups.push(() => anvil.stop())
  await placeUsdcAt(anvil.rpcUrl, { at: circleUsdcBaseSepolia, minterKey, name: 'USDC' })
  const reader = await createReader(anvil.rpcUrl)
  await reader.request({ method: 'evm_setIntervalMining', params: [1] } as never)

  // The database: an empty one on the test server.
  const adminUrl = inject('pgAdminUrl')
  const name = `tollgate_opsdoc_${randomBytes(4).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  cleanups.push(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  })

  const deployerKey = generatePrivateKey()
  const operatorKey = generatePrivateKey()
  const ownerKey = generatePrivateKey()
  const payee = privateKeyToAccount(generatePrivateKey()).address
  const owner = privateKeyToAccount(ownerKey).address
  const port = await freePort()
  const workerMetricsPort = await freePort()
  const values = {
    RPC_URL: anvil.rpcUrl, // the chain
    DEPLOYER_KEY: deployerKey, // keys: new ones, as an operator makes
    OPERATOR_KEY: operatorKey,
    PAYEE: payee,
    ADMIN: privateKeyToAccount(generatePrivateKey()).address,
    DATABASE_URL: databaseUrl(adminUrl, name),
    TOLLGATE_DATA_DIR: dir, // files and ports: this run's own, beside other tests
    PORT: String(port),
    WORKER_METRICS_PORT: String(workerMetricsPort),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    OWNER_KEY: ownerKey, // the smoke test's wallet
    OWNER_ADDRESS: owner,
  }

  // Step 2 and the smoke test's faucet: Sepolia ETH to the deployer and the operator, USDC to
  // the test wallet (the doc sends the operator to faucets for these).
  for (const key of [deployerKey, operatorKey])
    await reader.request({
      method: 'anvil_setBalance',
      params: [privateKeyToAccount(key).address, `0x${parseEther('1').toString(16)}`],
    } as never)
  const minter = await createSigner(anvil.rpcUrl, minterKey)
  await mintUsdc(minter, { usdc: circleUsdcBaseSepolia }, { to: owner, amount: 10_000_000n })

  const blocks = substitute(docBlocks(), values)
  expect(blocks.filter((b) => b.kind === 'service')).toHaveLength(2)
  const pidFile = join(dir, 'service-pids')
  const lines = ['set -euo pipefail']
  for (const [i, b] of blocks.entries()) {
    lines.push(`echo "### block ${i + 1} (${b.kind}) at $(date +%T)"`)
    if (b.kind === 'step') lines.push(b.code)
    else {
      // A service runs on, in its own process group (so it is stopped whole), logging to a file.
      const file = join(dir, `service-${i + 1}.sh`)
      writeFileSync(file, b.code)
      lines.push(`setsid bash '${file}' > '${file}.log' 2>&1 & echo $! >> '${pidFile}'`)
    }
  }
  const script = join(dir, 'operations.sh')
  writeFileSync(script, `${lines.join('\n')}\n`)
  cleanups.push(async () => {
    if (!existsSync(pidFile)) return
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number)
    await Promise.all(pids.map(stopGroup))
  })

  // A clean environment: nothing of the test's own Tollgate settings leaks into the doc's.
  const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? dir }
  const run = await new Promise<{ code: number | null; out: string }>((done) => {
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => done({ code, out }))
  })
  const logs = () =>
    blocks
      .map((_b, i) => join(dir, `service-${i + 1}.sh.log`))
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-4000)}`)
      .join('\n')
  expect(run.code, `${run.out}\n${logs()}`).toBe(0)

  // Deployed against Circle's address and verified from the chain, twice.
  expect(run.out).toContain('verified: code at token, collector and validator')
  expect(run.out).toContain('"name":"USDC","version":"2","chainId":84532')
  const deployment = JSON.parse(readFileSync(join(dir, 'deployment-84532.json'), 'utf8')) as {
    usdc: Address
    payee: Address
    operators: Address[]
  }
  expect(deployment).toMatchObject({
    usdc: circleUsdcBaseSepolia,
    payee,
    operators: [privateKeyToAccount(operatorKey).address],
  })

  // `tollgate deployment verify` on a node whose copy of the file differs names the difference.
  const tampered = join(dir, 'tampered.json')
  writeFileSync(tampered, JSON.stringify({ ...deployment, payee: values.ADMIN }))
  const refused = await tollgate(['deployment', 'verify', '--json'], {
    ...env,
    ...values,
    DEPLOYMENT_FILE: tampered,
  })
  expect(refused.code, refused.stderr).toBe(1)
  expect(JSON.parse(refused.stdout)).toMatchObject({
    ok: false,
    problem: expect.stringContaining(`collector PAYEE() is ${payee}, expected ${values.ADMIN}`),
  })

  // A process whose OPERATOR_KEY the collector does not accept stops before it sends anything.
  const notOperator = await tollgate(['settle', '--once'], {
    ...env,
    ...values,
    OPERATOR_KEY: generatePrivateKey(),
  })
  expect(notOperator.code).toBe(2)
  expect(notOperator.stderr).toMatch(/OPERATOR_KEY's address 0x\w{40} is not an operator/)

  // The charge, on-chain: one USDC Transfer from the test wallet to the payee, $1.50.
  const transfers = await reader.getLogs({
    address: circleUsdcBaseSepolia,
    event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'),
    args: { to: payee },
    fromBlock: 0n,
  })
  expect(transfers.map((t) => [t.args.from, t.args.value])).toEqual([[owner, 1_500_000n]])

  // The books agree with the chain, and both processes' metrics carry their families.
  const reconcile = await tollgate(['reconcile', '--json'], { ...env, ...values })
  expect(JSON.parse(reconcile.stdout), reconcile.stderr).toMatchObject({ ok: true })
  const families = async (url: string) =>
    new Set([...(await (await fetch(url)).text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!))
  const api = await families(`http://127.0.0.1:${port}/metrics`)
  for (const f of [
    'tollgate_refusals_total',
    'tollgate_meter_step_seconds',
    'nodejs_heap_size_used_bytes',
  ])
    expect(api, f).toContain(f)
  const worker = await families(`http://127.0.0.1:${workerMetricsPort}/metrics`)
  for (const f of [
    'tollgate_operator_eth',
    'tollgate_chain_block',
    'tollgate_settlement_batch_gas',
    'tollgate_settlement_oldest_accrued_seconds',
    'tollgate_outbox_backlog',
  ])
    expect(worker, f).toContain(f)
}, 300_000)
