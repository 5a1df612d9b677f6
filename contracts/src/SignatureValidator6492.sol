// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ISignatureValidator6492} from "./interfaces/ISignatureValidator6492.sol";
import {UsdcSignature} from "./libraries/UsdcSignature.sol";

/// @title SignatureValidator6492
/// @notice Unwraps ERC-6492 signatures of counterfactual wallets: makes the wrapped factory call
/// (deploying the wallet), then checks the inner signature with ERC-1271. Unwrapped signatures are
/// checked as USDC checks them. This contract holds nothing and is trusted by nobody for anything
/// but its answer, so the arbitrary factory call it makes cannot reach anyone's funds; the
/// collector, which holds everyone's allowances, never makes that call itself.
contract SignatureValidator6492 is ISignatureValidator6492 {
    /// @notice The suffix ERC-6492 appends to a wrapped signature.
    bytes32 public constant ERC6492_MAGIC =
        0x6492649264926492649264926492649264926492649264926492649264926492;

    /// @inheritdoc ISignatureValidator6492
    function isValidSig(address signer, bytes32 hash, bytes calldata signature) public returns (bool) {
        uint256 length = signature.length;
        if (length < 32 || bytes32(signature[length - 32:]) != ERC6492_MAGIC) {
            return UsdcSignature.isValidNow(signer, hash, signature);
        }
        (address factory, bytes memory factoryCalldata, bytes memory inner) =
            abi.decode(signature[:length - 32], (address, bytes, bytes));
        if (signer.code.length == 0) {
            // The outcome does not matter: only whether the signer has code afterwards.
            (bool ok,) = factory.call(factoryCalldata);
            ok;
        }
        if (signer.code.length == 0) return false;
        return UsdcSignature.isValidERC1271Now(signer, hash, inner);
    }

    /// @inheritdoc ISignatureValidator6492
    function isValidSigNoSideEffects(address signer, bytes32 hash, bytes calldata signature)
        external
        returns (bool)
    {
        try this.checkThenRevert(signer, hash, signature) {}
        catch (bytes memory reason) {
            if (reason.length == 36 && bytes4(reason) == Answer.selector) {
                uint256 valid;
                assembly ("memory-safe") {
                    valid := mload(add(reason, 0x24))
                }
                return valid == 1;
            }
        }
        return false;
    }

    /// @inheritdoc ISignatureValidator6492
    function checkThenRevert(address signer, bytes32 hash, bytes calldata signature) external {
        revert Answer(isValidSig(signer, hash, signature));
    }
}
