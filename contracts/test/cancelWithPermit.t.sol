// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";

/// @dev Cancel by one owner signature: a zero-value permit for the collector (DESIGN.md, "Cancel
/// leaves nothing behind").
contract CancelWithPermitTest is Base {
    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
    }

    function test_cancelWithPermit_success_submittedByAnyoneZeroesAllowance() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        vm.expectEmit(address(collector));
        emit ICollector.Canceled(SUB, owner, true);
        vm.prank(stranger);
        collector.cancelWithPermit(SUB, owner, p, sig);
        assertEq(collector.getSubscription(SUB).status, 2);
        assertEq(usdc.allowance(owner, address(collector)), 0);
        assertEq(collector.liveSubscriptionOf(owner), bytes32(0));
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Canceled);
        _collect(SUB, 1, 0, 1e6);
    }

    /// @dev A permit the owner signed but nobody submitted (same token nonce) is void after the cancel:
    /// it can neither top up nor open anything, nor move the allowance off 0 at the token.
    function test_cancelWithPermit_success_voidsUnsubmittedPermit() public {
        (ICollector.Permit memory stale, bytes memory staleSig) = _permit(ownerKey, 5 * CAP);
        (ICollector.Permit memory z, bytes memory zSig) = _zeroPermit(ownerKey);
        assertEq(stale.nonce, z.nonce);
        collector.cancelWithPermit(SUB, owner, z, zSig);

        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, stale.nonce));
        _open(keccak256("subscription-2"), owner, ownerKey, stale, staleSig);
        vm.expectRevert("EIP2612: invalid signature");
        usdc.permit(owner, address(collector), stale.value, stale.deadline, staleSig);
        assertEq(usdc.allowance(owner, address(collector)), 0);
    }

    /// @dev Someone submits the zero permit to the token first: the cancel still goes through.
    function test_cancelWithPermit_success_permitFrontRun() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        vm.prank(stranger);
        usdc.permit(owner, address(collector), 0, p.deadline, sig);
        collector.cancelWithPermit(SUB, owner, p, sig);
        assertEq(collector.getSubscription(SUB).status, 2);
    }

    /// @dev Front-run, and its deadline passed before the cancel landed: still a cancel.
    function test_cancelWithPermit_success_permitFrontRunThenExpired() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        usdc.permit(owner, address(collector), 0, p.deadline, sig);
        vm.warp(p.deadline + 1);
        collector.cancelWithPermit(SUB, owner, p, sig);
        assertEq(collector.getSubscription(SUB).status, 2);
    }

    /// @dev Canceling voids every outstanding terms signature.
    function test_cancelWithPermit_success_voidsOutstandingTerms() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory termsSig = _sign(ownerKey, _termsDigest(SUB, t));
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        collector.cancelWithPermit(SUB, owner, p, sig);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        collector.setTerms(SUB, t, termsSig);
    }

    function test_cancelWithPermit_success_erc1271Owner() public {
        (MockERC1271Wallet wallet, uint256 key) = _newWallet("wallet");
        address w = address(wallet);
        bytes32 id = keccak256("wallet-sub");
        (ICollector.Permit memory p, bytes memory permitSig) =
            _permitFor(w, key, CAP, block.timestamp + 1 days);
        _open(id, w, key, p, permitSig);
        (ICollector.Permit memory z, bytes memory zSig) = _permitFor(w, key, 0, block.timestamp + 1 hours);
        collector.cancelWithPermit(id, w, z, zSig);
        assertEq(collector.getSubscription(id).status, 2);
        assertEq(usdc.allowance(w, address(collector)), 0);
    }

    /// @dev An id never opened is recorded as canceled (a tombstone): nothing can open it later.
    function test_cancelWithPermit_success_tombstoneNeverOpenedId() public {
        (address other, uint256 otherKey) = makeAddrAndKey("other");
        bytes32 id = keccak256("held");
        (ICollector.Permit memory held, bytes memory heldSig) =
            _permitFor(other, otherKey, CAP, block.timestamp + 90 days);
        (ICollector.Permit memory z, bytes memory zSig) =
            _permitFor(other, otherKey, 0, block.timestamp + 1 hours);
        vm.expectEmit(address(collector));
        emit ICollector.Canceled(id, other, true);
        collector.cancelWithPermit(id, other, z, zSig);
        ICollector.Subscription memory s = collector.getSubscription(id);
        assertEq(s.status, 2);
        assertEq(s.owner, other);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, id));
        _open(id, other, otherKey, held, heldSig);
    }

    /// @dev A counterfactual (ERC-6492) owner whose authorization was held off-chain: the tombstone is
    /// recorded without deploying the wallet, and its 90-day permit and terms can never open the id.
    function test_cancelWithPermit_success_tombstoneCounterfactualWithoutDeploying() public {
        (address signer, uint256 key) = makeAddrAndKey("cf-signer");
        bytes32 salt = keccak256("salt");
        address w = factory.predict(signer, salt);
        bytes32 id = keccak256("held-cf");
        ICollector.Permit memory held =
            ICollector.Permit({value: CAP, deadline: block.timestamp + 90 days, nonce: 0});
        bytes memory heldSig =
            _wrap6492(signer, salt, _sign(key, _permitDigest(w, address(collector), CAP, 0, held.deadline)));
        ICollector.Permit memory z =
            ICollector.Permit({value: 0, deadline: block.timestamp + 1 hours, nonce: 0});
        bytes memory zSig =
            _wrap6492(signer, salt, _sign(key, _permitDigest(w, address(collector), 0, 0, z.deadline)));
        collector.cancelWithPermit(id, w, z, zSig);
        assertEq(w.code.length, 0);
        assertEq(collector.getSubscription(id).status, 2);

        vm.warp(block.timestamp + 89 days);
        ICollector.Terms memory t = _terms(0, 30 days, 1);
        bytes memory termsSig = _sign(key, _termsDigest(id, t));
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, id));
        vm.prank(operator);
        collector.authorizeWithTerms(id, w, held, heldSig, t, termsSig);
    }

    function test_cancelWithPermit_revert_tombstoneCounterfactualBadSignature() public {
        (address signer,) = makeAddrAndKey("cf-signer");
        bytes32 salt = keccak256("salt");
        address w = factory.predict(signer, salt);
        ICollector.Permit memory z =
            ICollector.Permit({value: 0, deadline: block.timestamp + 1 hours, nonce: 0});
        bytes memory zSig =
            _wrap6492(signer, salt, _sign(ownerKey, _permitDigest(w, address(collector), 0, 0, z.deadline)));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.cancelWithPermit(keccak256("held-cf"), w, z, zSig);
        assertEq(w.code.length, 0);
    }

    /// @dev An owner with a live subscription cannot tombstone other ids with their cancel permit.
    function test_cancelWithPermit_revert_tombstoneWhileLive() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        vm.expectRevert(abi.encodeWithSelector(ICollector.OwnerHasLiveSubscription.selector, owner, SUB));
        collector.cancelWithPermit(keccak256("other"), owner, p, sig);
    }

    function test_cancelWithPermit_revert_notZero() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 1);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNotZero.selector, 1));
        collector.cancelWithPermit(SUB, owner, p, sig);
    }

    function test_cancelWithPermit_revert_replayed() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        collector.cancelWithPermit(SUB, owner, p, sig);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        collector.cancelWithPermit(SUB, owner, p, sig);
    }

    function test_cancelWithPermit_revert_ownerMismatch() public {
        (address other, uint256 otherKey) = makeAddrAndKey("other");
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(otherKey);
        vm.expectRevert(abi.encodeWithSelector(ICollector.OwnerMismatch.selector, SUB, owner));
        collector.cancelWithPermit(SUB, other, p, sig);
    }

    function testFuzz_cancelWithPermit_revert_expired(uint256 late) public {
        late = bound(late, 1, 365 days);
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        vm.warp(p.deadline + late);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitExpired.selector, p.deadline));
        collector.cancelWithPermit(SUB, owner, p, sig);
    }

    function testFuzz_cancelWithPermit_revert_wrongSigner(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ownerKey);
        (ICollector.Permit memory p,) = _zeroPermit(ownerKey);
        bytes memory sig = _sign(key, _permitDigest(owner, address(collector), 0, p.nonce, p.deadline));
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        collector.cancelWithPermit(SUB, owner, p, sig);
    }

    function test_cancelWithPermit_revert_highS() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        collector.cancelWithPermit(SUB, owner, p, _highS(sig));
    }

    /// @dev A permit for another spender (another app) is no cancel here.
    function test_cancelWithPermit_revert_otherSpender() public {
        (ICollector.Permit memory p,) = _zeroPermit(ownerKey);
        bytes memory sig = _sign(ownerKey, _permitDigest(owner, stranger, 0, p.nonce, p.deadline));
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        collector.cancelWithPermit(SUB, owner, p, sig);
    }

    function test_cancelWithPermit_revert_zeroSubscription() public {
        (ICollector.Permit memory p, bytes memory sig) = _zeroPermit(ownerKey);
        vm.expectRevert(ICollector.ZeroValue.selector);
        collector.cancelWithPermit(bytes32(0), owner, p, sig);
    }
}
