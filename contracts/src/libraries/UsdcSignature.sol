// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title UsdcSignature
/// @notice Signature checks that accept exactly what Circle's FiatToken v2.2 `SignatureChecker`
/// accepts: for a signer without code, a 65-byte (r, s, v) ECDSA signature with s in the lower half
/// order and v in {27, 28}; for a signer with code (a deployed wallet, or an EIP-7702 account, whose
/// code is its delegation designator), ERC-1271 `isValidSignature` returning the magic value as the
/// first 32-byte word. Where USDC reverts on a malformed signature, these return false.
library UsdcSignature {
    /// @dev secp256k1n / 2: the largest s USDC's ECRecover accepts.
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    /// @dev ERC-1271 magic value, `isValidSignature(bytes32,bytes)`'s selector.
    bytes4 internal constant ERC1271_MAGIC = 0x1626ba7e;

    /// @notice Whether `signature` is valid for `signer` over `digest` now, as USDC decides it.
    function isValidNow(address signer, bytes32 digest, bytes memory signature) internal view returns (bool) {
        if (signer.code.length == 0) return recover(digest, signature) == signer && signer != address(0);
        return isValidERC1271Now(signer, digest, signature);
    }

    /// @notice The ECDSA signer of `digest`, or address(0) for any signature USDC would refuse.
    function recover(bytes32 digest, bytes memory signature) internal pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        if (uint256(s) > HALF_ORDER) return address(0);
        if (v != 27 && v != 28) return address(0);
        return ecrecover(digest, v, r, s);
    }

    /// @notice ERC-1271 check exactly as USDC's SignatureChecker makes it.
    function isValidERC1271Now(address signer, bytes32 digest, bytes memory signature)
        internal
        view
        returns (bool)
    {
        (bool success, bytes memory result) =
            signer.staticcall(abi.encodeWithSelector(ERC1271_MAGIC, digest, signature));
        return success && result.length >= 32 && abi.decode(result, (bytes32)) == bytes32(ERC1271_MAGIC);
    }
}
