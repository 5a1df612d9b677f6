// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ISignatureValidator6492
/// @notice Verifies signatures the way USDC does (ECDSA with low-s for code-less signers, ERC-1271
/// for signers with code), after unwrapping ERC-6492: for a counterfactual wallet it first makes
/// the wrapped factory call, which deploys the wallet. It holds no funds, no allowances and no
/// roles, so an arbitrary factory call made from it can do nothing a stranger could not.
interface ISignatureValidator6492 {
    /// @notice Whether `signature` is valid for `signer` over `hash`, deploying the signer through
    /// the ERC-6492 factory call first when the signature is wrapped and the signer has no code.
    function isValidSig(address signer, bytes32 hash, bytes calldata signature) external returns (bool);

    /// @notice `isValidSig` with every effect undone: the factory call and the check run in an inner
    /// call that always reverts, carrying its answer out, so a counterfactual wallet stays undeployed.
    function isValidSigNoSideEffects(address signer, bytes32 hash, bytes calldata signature)
        external
        returns (bool);

    /// @notice The inner call of `isValidSigNoSideEffects`: always reverts with `Answer(valid)`.
    function checkThenRevert(address signer, bytes32 hash, bytes calldata signature) external;

    /// @notice Carries `checkThenRevert`'s answer out of its reverted call.
    error Answer(bool valid);
}
