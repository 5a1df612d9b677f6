import type { Address } from 'viem'

/**
 * Canonical addresses of the ERC-4337 contracts our local rig deploys. They are the mainnet /
 * Base addresses, reproduced on anvil by CREATE2 with the same deployer, salt and init code as
 * the original deployments (the bytecode comes from the npm packages named beside each), so
 * permissionless's and viem's account helpers work with their defaults, unmodified.
 */
export const aaAddresses = {
  /** Arachnid's deterministic deployment proxy (anvil ships it). */
  create2Deployer: '0x4e59b44847b379578588920ca78fbf26c0b4956c',
  /** Safe's singleton factory: the same proxy code at the address Safe deploys through. */
  safeSingletonFactory: '0x914d7Fec6aaC8cd542e72Bca78B30650d45643d7',

  /** EntryPoint v0.7 (`@account-abstraction/contracts@0.7.0`, salt 0x90d8…1de3). */
  entryPoint07: '0x0000000071727De22E5E9d8BAf0edAc6f37da032',
  /** SimpleAccountFactory v0.7 (`@account-abstraction/contracts@0.7.0`, salt 0). */
  simpleAccountFactory07: '0x91E60e0613810449d098b0b5Ec8b51A0FE8c8985',
  /** EntryPoint v0.8 (`@account-abstraction/contracts@0.8.0`, salt 0x0a59…35e9). */
  entryPoint08: '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108',
  /** Simple7702Account v0.8, the EIP-7702 delegate (`@account-abstraction/contracts@0.8.0`, salt 0). */
  simple7702Account08: '0xe6Cae83BdE06E4c305530e199D7217f42808555B',

  /** Safe 1.4.1 singleton (`@safe-global/safe-contracts@1.4.1`, through the singleton factory). */
  safeSingleton141: '0x41675C099F32341bf84BFc5382aF534df5C7461a',
  /** SafeProxyFactory 1.4.1. */
  safeProxyFactory141: '0x4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67',
  /** MultiSend 1.4.1. */
  multiSend141: '0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526',
  /** MultiSendCallOnly 1.4.1. */
  multiSendCallOnly141: '0x9641d764fc13c8B624c04430C7356C1C7C8102e2',
  /** CompatibilityFallbackHandler 1.4.1 (ERC-1271 for Safes set up without the 4337 module). */
  compatibilityFallbackHandler141: '0xfd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99',
  /** Safe4337Module 0.3.0 for EntryPoint v0.7 (`@safe-global/safe-4337@0.3.0`, Arachnid's proxy). */
  safe4337Module030: '0x75cf11467937ce3F2f357CE24ffc3DBF8fD5c226',
  /** SafeModuleSetup 0.3.0 (enables the 4337 module in the Safe's setup). */
  safeModuleSetup030: '0x2dd68b007B46fBe91B9A7c3EDa5A7a1063cB5b47',
} as const satisfies Record<string, Address>

/**
 * Runtime code of the deterministic deployment proxy (Arachnid's, byte-identical to Safe's
 * singleton factory): `salt ‖ initCode` in calldata → CREATE2, returns the new address.
 * Used only when a node lacks it (anvil ships it; `--disable-default-create2-deployer` removes it).
 */
export const create2DeployerRuntimeCode =
  '0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3' as const
