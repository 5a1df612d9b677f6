// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";

contract SignatureValidator6492Test is Base {
    bytes32 internal constant HASH = keccak256("message");

    function test_isValidSig_success_ecdsa() public {
        assertTrue(validator.isValidSig(owner, HASH, _sign(ownerKey, HASH)));
    }

    function testFuzz_isValidSig_revert_wrongSigner(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ownerKey);
        assertFalse(validator.isValidSig(owner, HASH, _sign(key, HASH)));
    }

    function test_isValidSig_revert_highS() public {
        assertFalse(validator.isValidSig(owner, HASH, _highS(_sign(ownerKey, HASH))));
    }

    function test_isValidSig_success_erc1271() public {
        (MockERC1271Wallet wallet, uint256 key) = _newWallet("wallet");
        assertTrue(validator.isValidSig(address(wallet), HASH, _sign(key, HASH)));
        assertFalse(validator.isValidSig(address(wallet), HASH, _sign(ownerKey, HASH)));
    }

    function test_isValidSig_success_erc6492DeploysWallet() public {
        (address signer, uint256 key) = makeAddrAndKey("cf");
        bytes32 salt = keccak256("s");
        address w = factory.predict(signer, salt);
        assertTrue(validator.isValidSig(w, HASH, _wrap6492(signer, salt, _sign(key, HASH))));
        assertGt(w.code.length, 0);
    }

    function test_isValidSig_revert_erc6492WrongAddress() public {
        (address signer, uint256 key) = makeAddrAndKey("cf");
        // The factory deploys elsewhere: the claimed signer still has no code.
        assertFalse(validator.isValidSig(stranger, HASH, _wrap6492(signer, keccak256("s"), _sign(key, HASH))));
    }

    function test_isValidSig_revert_erc6492FactoryReverts() public {
        bytes memory sig = abi.encodePacked(
            abi.encode(address(usdc), abi.encodeWithSignature("nonexistent()"), _sign(ownerKey, HASH)),
            ERC6492_MAGIC
        );
        assertFalse(validator.isValidSig(stranger, HASH, sig));
    }

    /// @dev The same answer as `isValidSig`, with the counterfactual wallet left undeployed.
    function test_isValidSigNoSideEffects_success_erc6492LeavesWalletUndeployed() public {
        (address signer, uint256 key) = makeAddrAndKey("cf");
        bytes32 salt = keccak256("s");
        address w = factory.predict(signer, salt);
        assertTrue(validator.isValidSigNoSideEffects(w, HASH, _wrap6492(signer, salt, _sign(key, HASH))));
        assertEq(w.code.length, 0);
        assertFalse(
            validator.isValidSigNoSideEffects(w, HASH, _wrap6492(signer, salt, _sign(ownerKey, HASH)))
        );
        assertEq(w.code.length, 0);
    }

    function test_isValidSigNoSideEffects_success_ecdsa() public {
        assertTrue(validator.isValidSigNoSideEffects(owner, HASH, _sign(ownerKey, HASH)));
        assertFalse(validator.isValidSigNoSideEffects(owner, HASH, _highS(_sign(ownerKey, HASH))));
    }

    function test_checkThenRevert_revert_alwaysWithTheAnswer() public {
        vm.expectRevert(abi.encodeWithSignature("Answer(bool)", true));
        validator.checkThenRevert(owner, HASH, _sign(ownerKey, HASH));
    }
}
