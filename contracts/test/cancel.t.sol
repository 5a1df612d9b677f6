// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract CancelTest is Base {
    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
    }

    function test_cancel_success_byOwner() public {
        _collect(SUB, 1, 0, 1e6);
        vm.expectEmit(address(collector));
        emit ICollector.Canceled(SUB, owner, false);
        vm.prank(owner);
        collector.cancel(SUB);
        assertEq(collector.getSubscription(SUB).status, 2);
        assertEq(collector.liveSubscriptionOf(owner), bytes32(0));
        assertEq(collector.headroom(SUB), 0);
        // Nothing moves after cancel, even with the allowance still in place.
        _expectCollectRevert(SUB, 2, ICollector.FailureReason.Canceled);
        _collect(SUB, 2, 0, 1e6);
        assertEq(usdc.allowance(owner, address(collector)), CAP - 1e6);
    }

    /// @dev The other trust-free fallback: the owner zeroes the allowance on the token.
    function test_cancel_success_approveZeroStopsPulls() public {
        vm.prank(owner);
        usdc.approve(address(collector), 0);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Allowance);
        _collect(SUB, 1, 0, 1e6);
    }

    function test_cancel_revert_notOwner() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOwner.selector, operator, owner));
        vm.prank(operator);
        collector.cancel(SUB);
    }

    function testFuzz_cancel_revert_notOwner(address caller) public {
        vm.assume(caller != owner);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOwner.selector, caller, owner));
        vm.prank(caller);
        collector.cancel(SUB);
    }

    function test_cancel_revert_unknownSubscription() public {
        bytes32 id = keccak256("nope");
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, id));
        vm.prank(owner);
        collector.cancel(id);
    }

    function test_cancel_revert_alreadyCanceled() public {
        vm.prank(owner);
        collector.cancel(SUB);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        vm.prank(owner);
        collector.cancel(SUB);
    }
}
