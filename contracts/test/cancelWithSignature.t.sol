// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";

contract CancelWithSignatureTest is Base {
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
        deadline = block.timestamp + 1 hours;
    }

    function test_cancelWithSignature_success_submittedByAnyone() public {
        bytes memory sig = _sign(ownerKey, _cancelDigest(SUB, deadline));
        vm.expectEmit(address(collector));
        emit ICollector.Canceled(SUB, owner, true);
        vm.prank(stranger);
        collector.cancelWithSignature(SUB, deadline, sig);
        assertEq(collector.getSubscription(SUB).status, 2);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Canceled);
        _collect(SUB, 1, 0, 1e6);
    }

    /// @dev Canceling voids every outstanding terms signature.
    function test_cancelWithSignature_success_voidsOutstandingTerms() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 1);
        bytes memory termsSig = _sign(ownerKey, _termsDigest(SUB, t));
        collector.cancelWithSignature(SUB, deadline, _sign(ownerKey, _cancelDigest(SUB, deadline)));
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        collector.setTerms(SUB, t, termsSig);
    }

    function test_cancelWithSignature_success_erc1271Owner() public {
        (MockERC1271Wallet wallet, uint256 key) = _newWallet("wallet");
        address w = address(wallet);
        bytes32 id = keccak256("wallet-sub");
        ICollector.Permit memory p = ICollector.Permit({value: CAP, deadline: deadline, nonce: 0});
        bytes memory permitSig = _sign(key, _permitDigest(w, address(collector), CAP, 0, deadline));
        vm.prank(operator);
        collector.authorize(id, w, p, permitSig);
        collector.cancelWithSignature(id, deadline, _sign(key, _cancelDigest(id, deadline)));
        assertEq(collector.getSubscription(id).status, 2);
    }

    function test_cancelWithSignature_revert_replayed() public {
        bytes memory sig = _sign(ownerKey, _cancelDigest(SUB, deadline));
        collector.cancelWithSignature(SUB, deadline, sig);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        collector.cancelWithSignature(SUB, deadline, sig);
    }

    function testFuzz_cancelWithSignature_revert_expired(uint256 late) public {
        late = bound(late, 1, 365 days);
        bytes memory sig = _sign(ownerKey, _cancelDigest(SUB, deadline));
        vm.warp(deadline + late);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SignatureExpired.selector, deadline));
        collector.cancelWithSignature(SUB, deadline, sig);
    }

    function testFuzz_cancelWithSignature_revert_wrongSigner(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ownerKey);
        bytes memory sig = _sign(key, _cancelDigest(SUB, deadline));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.cancelWithSignature(SUB, deadline, sig);
    }

    function test_cancelWithSignature_revert_highS() public {
        bytes memory sig = _sign(ownerKey, _cancelDigest(SUB, deadline));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.cancelWithSignature(SUB, deadline, _highS(sig));
    }

    function test_cancelWithSignature_revert_deadlineTampered() public {
        bytes memory sig = _sign(ownerKey, _cancelDigest(SUB, deadline));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.cancelWithSignature(SUB, deadline + 1, sig);
    }

    function test_cancelWithSignature_revert_wrongChain() public {
        bytes memory sig = _sign(ownerKey, _cancelDigest(SUB, deadline));
        vm.chainId(8453);
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.cancelWithSignature(SUB, deadline, sig);
    }

    function test_cancelWithSignature_revert_unknownSubscription() public {
        bytes32 id = keccak256("nope");
        bytes memory sig = _sign(ownerKey, _cancelDigest(id, deadline));
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, id));
        collector.cancelWithSignature(id, deadline, sig);
    }

    /// @dev A terms signature is not a cancel signature (distinct EIP-712 types).
    function test_cancelWithSignature_revert_termsSignatureReused() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 1);
        t.deadline = deadline;
        bytes memory sig = _sign(ownerKey, _termsDigest(SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.cancelWithSignature(SUB, deadline, sig);
    }
}
