// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";

/// @dev Opening a subscription takes two owner signatures, permit and terms, in one transaction.
contract AuthorizeWithTermsTest is Base {
    function _call(ICollector.Terms memory t, bytes memory termsSig) internal {
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, termsSig);
    }

    function testFuzz_authorizeWithTerms_success(uint64 limit, uint32 period) public {
        period = uint32(bound(period, collector.MIN_PERIOD(), collector.MAX_PERIOD()));
        limit = uint64(bound(limit, 0, MAX_AMOUNT));
        ICollector.Terms memory t = _terms(limit, period, 1);
        _call(t, _sign(ownerKey, _termsDigest(SUB, t)));
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.limit, limit);
        assertEq(s.period, period);
        assertEq(s.start, block.timestamp);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
        assertEq(s.cap, CAP);
        assertEq(s.termsNonce, 1);
    }

    /// @dev The terms' cap is the lifetime cap, whatever the allowance: the permit alone grants
    /// 10x, the owner's terms say CAP, and CAP is all that can ever be collected.
    function test_authorizeWithTerms_success_capFromTermsBindsOverAllowance() public {
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, 10 * CAP);
        ICollector.Terms memory t = _terms(0, 30 days, 1);
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, _sign(ownerKey, _termsDigest(SUB, t)));
        assertEq(collector.getSubscription(SUB).cap, CAP);
        assertEq(collector.headroom(SUB), CAP);
        _collect(SUB, 1, 0, uint64(CAP) - 1);
        _expectCollectRevert(SUB, 2, ICollector.FailureReason.Cap);
        _collect(SUB, 2, 0, 2);
        _collect(SUB, 2, 0, 1);
        assertEq(usdc.balanceOf(payee), CAP);
    }

    /// @dev A re-up with new terms whose terms someone submitted first (setTerms is public): the
    /// identical terms are a no-op, so the owner's re-up still goes through.
    function test_authorizeWithTerms_success_termsFrontRunOnReup() public {
        _authorize(SUB, ownerKey, CAP);
        _collect(SUB, 1, 0, 10e6);
        ICollector.Terms memory t = _termsCapped(uint64(3 * CAP), 20e6, 30 days, 2);
        bytes memory termsSig = _sign(ownerKey, _termsDigest(SUB, t));
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, 3 * CAP - 10e6);
        vm.prank(stranger);
        collector.setTerms(SUB, t, termsSig);
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, termsSig);
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.limit, 20e6);
        assertEq(s.cap, 3 * CAP);
        assertEq(usdc.allowance(owner, address(collector)), 3 * CAP - 10e6);
    }

    /// @dev A permit is for the collector, not for an id: terms signed for another id open nothing.
    function test_authorizeWithTerms_revert_termsOfAnotherOwner() public {
        (, uint256 otherKey) = makeAddrAndKey("other");
        ICollector.Terms memory t = _terms(0, 30 days, 1);
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        bytes memory sig = _sign(otherKey, _termsDigest(SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, sig);
    }

    /// @dev A tombstoned id (canceled before it was ever opened) can never be opened.
    function test_authorizeWithTerms_revert_tombstoned() public {
        (ICollector.Permit memory z, bytes memory zSig) = _zeroPermit(ownerKey);
        collector.cancelWithPermit(SUB, owner, z, zSig);
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        ICollector.Terms memory t = _terms(0, 30 days, 1);
        bytes memory sig = _sign(ownerKey, _termsDigest(SUB, t));
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, sig);
    }

    /// @dev Bad terms undo the whole call: no subscription, the permit not applied.
    function test_authorizeWithTerms_revert_badTermsUndoesAuthorization() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 1);
        bytes memory sig = _sign(ownerKey, _termsDigest(keccak256("other"), t));
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        vm.expectRevert(ICollector.InvalidSignature.selector);
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, sig);
        assertEq(collector.liveSubscriptionOf(owner), bytes32(0));
        assertEq(usdc.allowance(owner, address(collector)), 0);
    }

    function test_authorizeWithTerms_revert_notOperator() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 1);
        bytes memory sig = _sign(ownerKey, _termsDigest(SUB, t));
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, stranger));
        vm.prank(stranger);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, sig);
    }

    function test_authorizeWithTerms_revert_expiredTerms() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 1);
        t.deadline = block.timestamp - 1;
        bytes memory sig = _sign(ownerKey, _termsDigest(SUB, t));
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SignatureExpired.selector, t.deadline));
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, sig);
    }

    function test_authorizeWithTerms_success_createsSubscription() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectEmit(address(collector));
        emit ICollector.Authorized(SUB, owner, CAP, true, uint40(block.timestamp), 30 days, uint64(CAP));
        _open(SUB, owner, ownerKey, p, sig);

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

    function testFuzz_authorizeWithTerms_success_anyValueAndDeadline(uint256 value, uint256 deadline) public {
        deadline = bound(deadline, block.timestamp, type(uint256).max);
        (ICollector.Permit memory p, bytes memory sig) = _permitFor(owner, ownerKey, value, deadline);
        _open(SUB, owner, ownerKey, p, sig);
        assertEq(usdc.allowance(owner, address(collector)), value);
    }

    /// @dev USDC trap: anyone may submit the owner's permit first; that counts as success.
    function test_authorizeWithTerms_success_permitAlreadySubmittedBySomeoneElse() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(stranger);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        _open(SUB, owner, ownerKey, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), SUB);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
    }

    /// @dev Front-run, and the deadline passed before the operator's transaction landed: still fine.
    function test_authorizeWithTerms_success_permitAlreadySubmittedThenExpired() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        vm.warp(p.deadline + 1);
        _open(SUB, owner, ownerKey, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), SUB);
    }

    function test_authorizeWithTerms_success_erc1271Owner() public {
        (MockERC1271Wallet wallet, uint256 key) = _newWallet("wallet");
        address w = address(wallet);
        usdc.mint(w, 10e6);
        (ICollector.Permit memory p,) = _permitFor(w, key, CAP, block.timestamp + 1 days);
        bytes memory sig = _sign(key, _permitDigest(w, address(collector), CAP, p.nonce, p.deadline));
        _open(SUB, w, key, p, sig);
        assertEq(usdc.allowance(w, address(collector)), CAP);
        _collect(SUB, 1, 0, 4e6);
        assertEq(usdc.balanceOf(payee), 4e6);
    }

    /// @dev A counterfactual wallet: the validator deploys it from the ERC-6492 wrapper, then the
    /// token checks the inner signature with ERC-1271.
    function test_authorizeWithTerms_success_erc6492CounterfactualOwner() public {
        (address signer, uint256 key) = makeAddrAndKey("cf-signer");
        bytes32 salt = keccak256("salt");
        address w = factory.predict(signer, salt);
        assertEq(w.code.length, 0);
        usdc.mint(w, 10e6);
        bytes memory inner =
            _sign(key, _permitDigest(w, address(collector), CAP, 0, block.timestamp + 1 days));
        ICollector.Permit memory p =
            ICollector.Permit({value: CAP, deadline: block.timestamp + 1 days, nonce: 0});
        _open(SUB, w, key, p, _wrap6492(signer, salt, inner));
        assertGt(w.code.length, 0);
        assertEq(usdc.allowance(w, address(collector)), CAP);
    }

    function test_authorizeWithTerms_success_newSubscriptionAfterCancel() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(owner);
        collector.cancel(SUB);
        bytes32 next = keccak256("subscription-2");
        _authorize(next, ownerKey, CAP);
        assertEq(collector.liveSubscriptionOf(owner), next);
    }

    function test_authorizeWithTerms_revert_ownerHasLiveSubscription() public {
        _authorize(SUB, ownerKey, CAP);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.OwnerHasLiveSubscription.selector, owner, SUB));
        _open(keccak256("other"), owner, ownerKey, p, sig);
    }

    /// @dev USDC trap: the 2612 nonce is one per owner across all apps; another app's permit used it.
    function test_authorizeWithTerms_revert_permitNonceUsedByAnotherApp() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        address otherApp = makeAddr("otherApp");
        bytes memory otherSig = _sign(ownerKey, _permitDigest(owner, otherApp, 5e6, 0, p.deadline));
        usdc.permit(owner, otherApp, 5e6, p.deadline, otherSig);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        _open(SUB, owner, ownerKey, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), bytes32(0));
    }

    function testFuzz_authorizeWithTerms_revert_permitExpired(uint256 late) public {
        late = bound(late, 1, 365 days);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.warp(p.deadline + late);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitExpired.selector, p.deadline));
        _open(SUB, owner, ownerKey, p, sig);
    }

    function testFuzz_authorizeWithTerms_revert_permitWrongSigner(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ownerKey);
        (ICollector.Permit memory p,) = _permit(ownerKey, CAP);
        bytes memory sig = _sign(key, _permitDigest(owner, address(collector), CAP, p.nonce, p.deadline));
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        _open(SUB, owner, ownerKey, p, sig);
    }

    function test_authorizeWithTerms_revert_permitHighS() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        _open(SUB, owner, ownerKey, p, _highS(sig));
    }

    /// @dev Operator passes a wrong value: the token refuses (digest differs), nothing is created.
    function test_authorizeWithTerms_revert_permitValueTampered() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        p.value = CAP * 10;
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        _open(SUB, owner, ownerKey, p, sig);
    }

    /// @dev USDC trap: a paused token refuses permits.
    function test_authorizeWithTerms_revert_tokenPaused() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(pauser);
        usdc.pause();
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        _open(SUB, owner, ownerKey, p, sig);
    }

    /// @dev After a cancel, the owner's old, already-consumed permit cannot open a new
    /// subscription on the allowance left behind: that takes a permit signed afresh.
    function test_authorizeWithTerms_revert_consumedPermitAfterCancel() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        _open(SUB, owner, ownerKey, p, sig);
        vm.prank(owner);
        collector.cancel(SUB);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        _open(keccak256("subscription-2"), owner, ownerKey, p, sig);
    }

    /// @dev ...while a permit consumed by someone else after the cancel still counts.
    function test_authorizeWithTerms_success_frontRunAfterCancel() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(owner);
        collector.cancel(SUB);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 2 * CAP);
        vm.prank(stranger);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        _open(keccak256("subscription-2"), owner, ownerKey, p, sig);
        assertEq(collector.liveSubscriptionOf(owner), keccak256("subscription-2"));
    }
}
