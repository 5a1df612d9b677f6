import {
  type Address,
  concat,
  encodeAbiParameters,
  getContractAddress,
  type Hex,
  isAddressEqual,
  zeroHash,
} from 'viem'
import type { SignerClient } from '../../src/chain/clients.js'
import { aaAddresses, create2DeployerRuntimeCode } from './aaAddresses.js'
import { type AaArtifactName, readAaArtifact } from './readAaArtifact.js'

export type DeployAaStackParameters = {
  /** Which parts to deploy; all by default. */
  include?: ('entryPoint07' | 'entryPoint08' | 'safe')[]
}

export type DeployAaStackReturnType = {
  addresses: typeof aaAddresses
  /** What this call deployed (the rest was already there, e.g. a dev chain loaded from state). */
  deployed: (keyof typeof aaAddresses)[]
  /** Deterministic deployers this call planted with `anvil_setCode` (Safe's singleton factory). */
  planted: Address[]
}

type Step = {
  name: keyof typeof aaAddresses
  artifact: AaArtifactName
  deployer: Address
  salt: Hex
  args?: Hex
}

const entryPoint07Salt: Hex = '0x90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3'
const entryPoint08Salt: Hex = '0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9'
const addressArg = (a: Address) => encodeAbiParameters([{ type: 'address' }], [a])

function steps(include: Set<string>): Step[] {
  const { create2Deployer: arachnid, safeSingletonFactory: safeFactory } = aaAddresses
  const s: Step[] = []
  if (include.has('entryPoint07') || include.has('safe')) {
    s.push(
      {
        name: 'entryPoint07',
        artifact: 'EntryPoint07',
        deployer: arachnid,
        salt: entryPoint07Salt,
      },
      {
        name: 'simpleAccountFactory07',
        artifact: 'SimpleAccountFactory07',
        deployer: arachnid,
        salt: zeroHash,
        args: addressArg(aaAddresses.entryPoint07),
      },
    )
  }
  if (include.has('entryPoint08')) {
    s.push(
      {
        name: 'entryPoint08',
        artifact: 'EntryPoint08',
        deployer: arachnid,
        salt: entryPoint08Salt,
      },
      {
        name: 'simple7702Account08',
        artifact: 'Simple7702Account08',
        deployer: arachnid,
        salt: zeroHash,
      },
    )
  }
  if (include.has('safe')) {
    const safe = (name: Step['name'], artifact: AaArtifactName): Step => ({
      name,
      artifact,
      deployer: safeFactory,
      salt: zeroHash,
    })
    s.push(
      safe('safeSingleton141', 'Safe141'),
      safe('safeProxyFactory141', 'SafeProxyFactory141'),
      safe('multiSend141', 'MultiSend141'),
      safe('multiSendCallOnly141', 'MultiSendCallOnly141'),
      safe('compatibilityFallbackHandler141', 'CompatibilityFallbackHandler141'),
      // The 4337 module and its setup helper went out through Arachnid's proxy, not Safe's factory.
      {
        name: 'safe4337Module030',
        artifact: 'Safe4337Module030',
        deployer: arachnid,
        salt: zeroHash,
        args: addressArg(aaAddresses.entryPoint07),
      },
      {
        name: 'safeModuleSetup030',
        artifact: 'SafeModuleSetup030',
        deployer: arachnid,
        salt: zeroHash,
      },
    )
  }
  return s
}

async function hasCode(client: SignerClient, address: Address) {
  const code = await client.getCode({ address })
  return code !== undefined && code !== '0x'
}

/**
 * Deploys the ERC-4337 stack on a local chain (anvil) at the canonical mainnet addresses:
 * EntryPoint v0.7 + SimpleAccountFactory, EntryPoint v0.8 + Simple7702Account (the EIP-7702
 * delegate), and Safe 1.4.1 (singleton, proxy factory, MultiSend, fallback handler) with the
 * Safe 4337 module 0.3.0 — all from the prebuilt bytecode of their npm packages, through the same
 * CREATE2 deployer and salt as the real deployments, so the addresses come out identical and
 * permissionless's account helpers work with their defaults.
 *
 * Only Safe's singleton factory is planted with `anvil_setCode` (its signed deployment
 * transaction is per chain id); it is the same deterministic-deployment code as Arachnid's,
 * which anvil ships. Everything else is a real CREATE2 deployment. Idempotent: a contract
 * already in place is skipped, so a dev chain reloaded from state is left as is.
 *
 * @example
 * const { addresses } = await deployAaStack(deployer)
 * // addresses.entryPoint07 === entryPoint07Address (viem)
 */
export async function deployAaStack(
  client: SignerClient,
  parameters: DeployAaStackParameters = {},
): Promise<DeployAaStackReturnType> {
  const include = new Set(parameters.include ?? ['entryPoint07', 'entryPoint08', 'safe'])
  const work = steps(include)
  const planted: Address[] = []
  for (const factory of new Set(work.map((s) => s.deployer))) {
    if (await hasCode(client, factory)) continue
    planted.push(factory)
    // anvil_setCode: the deterministic deployer's code where the node lacks it.
    const arachnidCode = await client.getCode({ address: aaAddresses.create2Deployer })
    await client.request({
      method: 'anvil_setCode',
      params: [
        factory,
        arachnidCode && arachnidCode !== '0x' ? arachnidCode : create2DeployerRuntimeCode,
      ],
    } as never)
  }
  const deployed: DeployAaStackReturnType['deployed'] = []
  for (const step of work) {
    const expected = aaAddresses[step.name]
    if (await hasCode(client, expected)) continue
    const initCode = step.args
      ? concat([readAaArtifact(step.artifact).bytecode, step.args])
      : readAaArtifact(step.artifact).bytecode
    const predicted = getContractAddress({
      opcode: 'CREATE2',
      from: step.deployer,
      salt: step.salt,
      bytecode: initCode,
    })
    if (!isAddressEqual(predicted, expected)) {
      throw new Error(
        `${step.artifact}: the packaged bytecode predicts ${predicted}, not the canonical ${expected} (package version changed?)`,
      )
    }
    const hash = await client.sendTransaction({
      to: step.deployer,
      data: concat([step.salt, initCode]),
    })
    const receipt = await client.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success' || !(await hasCode(client, expected))) {
      throw new Error(`${step.artifact}: deployment ${hash} left no code at ${expected}`)
    }
    deployed.push(step.name)
  }
  return { addresses: aaAddresses, deployed, planted }
}
