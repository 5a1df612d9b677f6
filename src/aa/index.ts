// Smart-account owners: the local ERC-4337 rig, verification exactly as USDC verifies, and a
// test wallet. What settlement and web import from here.
export { aaAddresses } from './aaAddresses.js'
export { type DeployAaStackReturnType, deployAaStack } from './deployAaStack.js'
export { deploySmartAccount } from './deploySmartAccount.js'
export {
  type Eip1193TestWalletParameters,
  eip1193TestWallet,
  ProviderRpcError,
} from './eip1193TestWallet.js'
export { type OwnerDeploymentDueReturnType, ownerDeploymentDue } from './ownerDeploymentDue.js'
export {
  sendUserOperationDirect,
  UserOperationRevertedError,
} from './sendUserOperationDirect.js'
export { type SmartAccountKind, toOwnerSmartAccount } from './toOwnerSmartAccount.js'
export {
  type OwnerKind,
  type VerifyOwnerSignatureReturnType,
  verifyOwnerSignature,
} from './verifyOwnerSignature.js'
