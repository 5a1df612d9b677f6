// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract AuthorizeTest is Base {
    function test_authorize_success_reauthorizeSetsNewAllowance() public {
        _authorize(SUB, ownerKey, CAP);
        _collect(SUB, 1, 0, 30e6);
        vm.warp(block.timestamp + 3 days);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 50e6);
        vm.expectEmit(address(collector));
        emit ICollector.Authorized(
            SUB, owner, 50e6, false, uint40(block.timestamp - 3 days), 30 days, uint64(30e6 + 50e6)
        );
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);
        assertEq(usdc.allowance(owner, address(collector)), 50e6);
        // Windows and sequence are untouched by re-authorization.
        assertEq(collector.lastSeq(SUB), 1);
        assertEq(collector.getSubscription(SUB).start, block.timestamp - 3 days);
        // The permit is consent to its value more: the cap is what is collected plus that.
        assertEq(collector.getSubscription(SUB).cap, 80e6);
    }

    /// @dev A permit alone never opens a subscription: a leaked operator key holding an owner's
    /// permit cannot open an id of its own choosing (M1).
    function test_authorize_revert_termsRequired() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.TermsRequired.selector, SUB));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);
        assertEq(collector.liveSubscriptionOf(owner), bytes32(0));
        assertEq(usdc.allowance(owner, address(collector)), 0);
    }

    /// @dev Nor a second id next to the live one.
    function test_authorize_revert_termsRequiredForSecondId() public {
        _authorize(SUB, ownerKey, CAP);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        bytes32 other = keccak256("other");
        vm.expectRevert(abi.encodeWithSelector(ICollector.TermsRequired.selector, other));
        vm.prank(operator);
        collector.authorize(other, owner, p, sig, type(uint64).max);
    }

    function testFuzz_authorize_success_capIsCollectedPlusValue(uint256 value) public {
        _authorize(SUB, ownerKey, CAP);
        _collect(SUB, 1, 0, 7e6);
        (ICollector.Permit memory p, bytes memory sig) =
            _permitFor(owner, ownerKey, value, block.timestamp + 1 days);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);
        uint256 expected = 7e6 + (value > MAX_AMOUNT ? MAX_AMOUNT : value);
        assertEq(collector.getSubscription(SUB).cap, expected > MAX_AMOUNT ? MAX_AMOUNT : expected);
    }

    /// @dev L2: the owner re-ups to a cap of 50 (permit 50 - 10 collected = 40) while a charge of 5
    /// is already on its way; it lands first. The operator names the cap, so the owner ends at 50,
    /// not 55, although the permit sets the allowance to 40.
    function test_authorize_success_maxCapBoundsPullRacingThePermit() public {
        _authorize(SUB, ownerKey, CAP);
        _collect(SUB, 1, 0, 10e6);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 40e6);
        _collect(SUB, 2, 0, 5e6);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, 50e6);
        assertEq(collector.getSubscription(SUB).cap, 50e6);
        assertEq(collector.headroom(SUB), 35e6);
        _expectCollectRevert(SUB, 3, ICollector.FailureReason.Cap);
        _collect(SUB, 3, 0, 35e6 + 1);
        _collect(SUB, 3, 0, 35e6);
    }

    /// @dev The operator's cap can only lower what the permit allows, never raise it.
    function testFuzz_authorize_success_maxCapNeverRaises(uint64 maxCap) public {
        _authorize(SUB, ownerKey, CAP);
        _collect(SUB, 1, 0, 10e6);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 40e6);
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, maxCap);
        assertLe(collector.getSubscription(SUB).cap, 50e6);
        assertLe(collector.getSubscription(SUB).cap, maxCap);
    }

    function test_authorize_revert_notOperator() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, stranger));
        vm.prank(stranger);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);
    }

    function test_authorize_revert_zeroSubscription() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(ICollector.ZeroValue.selector);
        vm.prank(operator);
        collector.authorize(bytes32(0), owner, p, sig, type(uint64).max);
    }

    function test_authorize_revert_zeroOwner() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(ICollector.ZeroValue.selector);
        vm.prank(operator);
        collector.authorize(SUB, address(0), p, sig, type(uint64).max);
    }

    function test_authorize_revert_ownerMismatch() public {
        _authorize(SUB, ownerKey, CAP);
        (address other, uint256 otherKey) = makeAddrAndKey("other");
        (ICollector.Permit memory p, bytes memory sig) = _permit(otherKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.OwnerMismatch.selector, SUB, owner));
        vm.prank(operator);
        collector.authorize(SUB, other, p, sig, type(uint64).max);
    }

    function test_authorize_revert_canceled() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(owner);
        collector.cancel(SUB);
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);
    }

    /// @dev Front-run, then a charge drew the allowance down before a second submission: no longer
    /// exactly the permit's value, so the stale permit is refused rather than re-counted.
    function test_authorize_revert_permitUsedAndAllowanceMoved() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        _open(SUB, owner, ownerKey, p, sig);
        _collect(SUB, 1, 0, 1e6);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);
    }
}
