// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice A smart wallet for tests: ERC-1271 valid when its signing key signed the hash (any s, as
/// wallets decide for themselves). Holds USDC like any address.
contract MockERC1271Wallet {
    /// @notice The key whose ECDSA signatures this wallet accepts.
    address public immutable SIGNER;

    constructor(address signer) {
        SIGNER = signer;
    }

    /// @notice ERC-1271.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        return ecrecover(hash, v, r, s) == SIGNER ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

/// @notice A CREATE2 factory of `MockERC1271Wallet`s, for ERC-6492 counterfactual signatures.
contract MockWalletFactory {
    /// @notice Deploys the wallet of `signer` with `salt` (or returns it if already there).
    function deploy(address signer, bytes32 salt) external returns (address wallet) {
        wallet = predict(signer, salt);
        if (wallet.code.length == 0) wallet = address(new MockERC1271Wallet{salt: salt}(signer));
    }

    /// @notice The wallet's address before deployment.
    function predict(address signer, bytes32 salt) public view returns (address) {
        bytes32 codeHash =
            keccak256(abi.encodePacked(type(MockERC1271Wallet).creationCode, abi.encode(signer)));
        return
            address(
                uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, codeHash))))
            );
    }
}

/// @notice A wallet that answers ERC-1271 with the magic value for everything but reverts on others.
contract RejectingWallet {
    /// @notice Never valid.
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }
}
