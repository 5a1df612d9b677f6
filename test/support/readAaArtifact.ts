import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Abi, Hex } from 'viem'
import { projectRoot } from '../../src/config/index.js'

/** The prebuilt contracts the AA rig deploys, and where their npm packages keep them. */
export const aaArtifactPaths = {
  EntryPoint07: '@account-abstraction/contracts-v07/artifacts/EntryPoint.json',
  SimpleAccountFactory07: '@account-abstraction/contracts-v07/artifacts/SimpleAccountFactory.json',
  SimpleAccount07: '@account-abstraction/contracts-v07/artifacts/SimpleAccount.json',
  EntryPoint08: '@account-abstraction/contracts/artifacts/EntryPoint.json',
  Simple7702Account08: '@account-abstraction/contracts/artifacts/Simple7702Account.json',
  Safe141: '@safe-global/safe-contracts/build/artifacts/contracts/Safe.sol/Safe.json',
  SafeProxyFactory141:
    '@safe-global/safe-contracts/build/artifacts/contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json',
  MultiSend141:
    '@safe-global/safe-contracts/build/artifacts/contracts/libraries/MultiSend.sol/MultiSend.json',
  MultiSendCallOnly141:
    '@safe-global/safe-contracts/build/artifacts/contracts/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json',
  CompatibilityFallbackHandler141:
    '@safe-global/safe-contracts/build/artifacts/contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json',
  Safe4337Module030:
    '@safe-global/safe-4337/build/artifacts/contracts/Safe4337Module.sol/Safe4337Module.json',
  SafeModuleSetup030:
    '@safe-global/safe-4337/build/artifacts/contracts/SafeModuleSetup.sol/SafeModuleSetup.json',
} as const

export type AaArtifactName = keyof typeof aaArtifactPaths

const cache = new Map<AaArtifactName, { abi: Abi; bytecode: Hex }>()

/**
 * Reads a prebuilt contract (ABI and creation code) from the npm package that ships it. Nothing
 * is compiled or copied into the repo: the bytes are the packages' own, which is what makes the
 * CREATE2 addresses come out canonical.
 *
 * @example
 * const { bytecode } = readAaArtifact('EntryPoint07')
 */
export function readAaArtifact(name: AaArtifactName): { abi: Abi; bytecode: Hex } {
  const hit = cache.get(name)
  if (hit) return hit
  const json = JSON.parse(
    readFileSync(resolve(projectRoot, 'node_modules', aaArtifactPaths[name]), 'utf8'),
  ) as { abi: Abi; bytecode: Hex }
  const artifact = { abi: json.abi, bytecode: json.bytecode }
  cache.set(name, artifact)
  return artifact
}
