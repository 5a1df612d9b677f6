// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract RetireSeqTest is Base {
    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
    }

    /// @dev A seq that can never be collected no longer blocks the subscription: the next one
    /// collects, the retired one never does, and nothing moved for it.
    function test_retireSeq_success_nextSeqCollectsRetiredNever() public {
        _collect(SUB, 1, 0, 1e6);
        vm.expectEmit(address(collector));
        emit ICollector.SeqRetired(SUB, 2, "lost off-chain");
        vm.prank(operator);
        collector.retireSeq(SUB, 2, "lost off-chain");
        assertEq(collector.lastSeq(SUB), 2);
        assertEq(collector.getSubscription(SUB).totalCollected, 1e6);
        assertEq(usdc.balanceOf(payee), 1e6);

        _expectCollectRevert(SUB, 2, ICollector.FailureReason.SeqUsed);
        _collect(SUB, 2, 0, 1e6);
        _collect(SUB, 3, 0, 2e6);
        assertEq(usdc.balanceOf(payee), 3e6);
    }

    function test_retireSeq_revert_notNext() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.SeqNotNext.selector, 2, 0));
        vm.prank(operator);
        collector.retireSeq(SUB, 2, "gap");
        _collect(SUB, 1, 0, 1e6);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SeqNotNext.selector, 1, 1));
        vm.prank(operator);
        collector.retireSeq(SUB, 1, "already collected");
    }

    function test_retireSeq_revert_notOperator() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, stranger));
        vm.prank(stranger);
        collector.retireSeq(SUB, 1, "x");
    }

    function test_retireSeq_revert_canceled() public {
        vm.prank(owner);
        collector.cancel(SUB);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        vm.prank(operator);
        collector.retireSeq(SUB, 1, "x");
    }

    function test_retireSeq_revert_unknownSubscription() public {
        bytes32 id = keccak256("nope");
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, id));
        vm.prank(operator);
        collector.retireSeq(id, 1, "x");
    }
}
