// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";

contract AuthorizeTest is Base {
    function test_authorize_success_createsSubscription() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectEmit(address(collector));
        emit ICollector.Authorized(SUB, owner, CAP, true, uint40(block.timestamp), 30 days);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);

        assertEq(usdc.allowance(owner, address(collector)), CAP);
        assertEq(collector.liveSubscriptionOf(owner), SUB);
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.owner, owner);
        assertEq(s.start, block.timestamp);
        assertEq(s.period, 30 days);
        assertEq(s.status, 1);
        assertEq(s.lastSeq, 0);
        assertEq(s.limit, 0);
    }

    function testFuzz_authorize_success_anyValueAndDeadline(uint256 value, uint256 deadline) public {
        deadline = bound(deadline, block.timestamp, type(uint256).max);
        (ICollector.Permit memory p, bytes memory sig) = _permitFor(owner, ownerKey, value, deadline);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        assertEq(usdc.allowance(owner, address(collector)), value);
    }

    function test_authorize_success_reauthorizeSetsNewAllowance() public {
        _authorize(SUB, ownerKey, CAP);
        _collect(SUB, 1, 0, 30e6);
        vm.warp(block.timestamp + 3 days);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 50e6);
        vm.expectEmit(address(collector));
        emit ICollector.Authorized(SUB, owner, 50e6, false, uint40(block.timestamp - 3 days), 30 days);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        assertEq(usdc.allowance(owner, address(collector)), 50e6);
        // Windows and sequence are untouched by re-authorization.
        assertEq(collector.lastSeq(SUB), 1);
        assertEq(collector.getSubscription(SUB).start, block.timestamp - 3 days);
    }

    /// @dev USDC trap: anyone may submit the owner's permit first; that counts as success.
    function test_authorize_success_permitAlreadySubmittedBySomeoneElse() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(stranger);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), SUB);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
    }

    /// @dev Front-run, and the deadline passed before the operator's transaction landed: still fine.
    function test_authorize_success_permitAlreadySubmittedThenExpired() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        vm.warp(p.deadline + 1);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), SUB);
    }

    function test_authorize_success_erc1271Owner() public {
        (MockERC1271Wallet wallet, uint256 key) = _newWallet("wallet");
        address w = address(wallet);
        usdc.mint(w, 10e6);
        (ICollector.Permit memory p,) = _permitFor(w, key, CAP, block.timestamp + 1 days);
        bytes memory sig = _sign(key, _permitDigest(w, address(collector), CAP, p.nonce, p.deadline));
        vm.prank(operator);
        collector.authorize(SUB, w, p, sig);
        assertEq(usdc.allowance(w, address(collector)), CAP);
        _collect(SUB, 1, 0, 4e6);
        assertEq(usdc.balanceOf(payee), 4e6);
    }

    /// @dev A counterfactual wallet: the validator deploys it from the ERC-6492 wrapper, then the
    /// token checks the inner signature with ERC-1271.
    function test_authorize_success_erc6492CounterfactualOwner() public {
        (address signer, uint256 key) = makeAddrAndKey("cf-signer");
        bytes32 salt = keccak256("salt");
        address w = factory.predict(signer, salt);
        assertEq(w.code.length, 0);
        usdc.mint(w, 10e6);
        bytes memory inner =
            _sign(key, _permitDigest(w, address(collector), CAP, 0, block.timestamp + 1 days));
        ICollector.Permit memory p =
            ICollector.Permit({value: CAP, deadline: block.timestamp + 1 days, nonce: 0});
        vm.prank(operator);
        collector.authorize(SUB, w, p, _wrap6492(signer, salt, inner));
        assertGt(w.code.length, 0);
        assertEq(usdc.allowance(w, address(collector)), CAP);
    }

    function test_authorize_success_newSubscriptionAfterCancel() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(owner);
        collector.cancel(SUB);
        bytes32 next = keccak256("subscription-2");
        _authorize(next, ownerKey, CAP);
        assertEq(collector.liveSubscriptionOf(owner), next);
    }

    function test_authorize_revert_notOperator() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, stranger));
        vm.prank(stranger);
        collector.authorize(SUB, owner, p, sig);
    }

    function test_authorize_revert_zeroSubscription() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(ICollector.ZeroValue.selector);
        vm.prank(operator);
        collector.authorize(bytes32(0), owner, p, sig);
    }

    function test_authorize_revert_zeroOwner() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(ICollector.ZeroValue.selector);
        vm.prank(operator);
        collector.authorize(SUB, address(0), p, sig);
    }

    function test_authorize_revert_ownerHasLiveSubscription() public {
        _authorize(SUB, ownerKey, CAP);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.OwnerHasLiveSubscription.selector, owner, SUB));
        vm.prank(operator);
        collector.authorize(keccak256("other"), owner, p, sig);
    }

    function test_authorize_revert_ownerMismatch() public {
        _authorize(SUB, ownerKey, CAP);
        (address other, uint256 otherKey) = makeAddrAndKey("other");
        (ICollector.Permit memory p, bytes memory sig) = _permit(otherKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.OwnerMismatch.selector, SUB, owner));
        vm.prank(operator);
        collector.authorize(SUB, other, p, sig);
    }

    function test_authorize_revert_canceled() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(owner);
        collector.cancel(SUB);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
    }

    /// @dev USDC trap: the 2612 nonce is one per owner across all apps; another app's permit used it.
    function test_authorize_revert_permitNonceUsedByAnotherApp() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        address otherApp = makeAddr("otherApp");
        bytes memory otherSig = _sign(ownerKey, _permitDigest(owner, otherApp, 5e6, 0, p.deadline));
        usdc.permit(owner, otherApp, 5e6, p.deadline, otherSig);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), bytes32(0));
    }

    /// @dev Front-run, then a charge drew the allowance down before a second submission: no longer
    /// exactly the permit's value, so the stale permit is refused rather than re-counted.
    function test_authorize_revert_permitUsedAndAllowanceMoved() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        _collect(SUB, 1, 0, 1e6);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
    }

    function testFuzz_authorize_revert_permitExpired(uint256 late) public {
        late = bound(late, 1, 365 days);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.warp(p.deadline + late);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitExpired.selector, p.deadline));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
    }

    function testFuzz_authorize_revert_permitWrongSigner(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ownerKey);
        (ICollector.Permit memory p,) = _permit(ownerKey, CAP);
        bytes memory sig = _sign(key, _permitDigest(owner, address(collector), CAP, p.nonce, p.deadline));
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
    }

    function test_authorize_revert_permitHighS() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, _highS(sig));
    }

    /// @dev Operator passes a wrong value: the token refuses (digest differs), nothing is created.
    function test_authorize_revert_permitValueTampered() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        p.value = CAP * 10;
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
    }

    /// @dev USDC trap: a paused token refuses permits.
    function test_authorize_revert_tokenPaused() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(pauser);
        usdc.pause();
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
    }

    /// @dev After a cancel, the owner's old, already-consumed permit cannot open a new
    /// subscription on the allowance left behind: that takes a permit signed afresh.
    function test_authorize_revert_consumedPermitAfterCancel() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig);
        vm.prank(owner);
        collector.cancel(SUB);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        vm.prank(operator);
        collector.authorize(keccak256("subscription-2"), owner, p, sig);
    }

    /// @dev ...while a permit consumed by someone else after the cancel still counts.
    function test_authorize_success_frontRunAfterCancel() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(owner);
        collector.cancel(SUB);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 2 * CAP);
        vm.prank(stranger);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        vm.prank(operator);
        collector.authorize(keccak256("subscription-2"), owner, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), keccak256("subscription-2"));
    }
}
