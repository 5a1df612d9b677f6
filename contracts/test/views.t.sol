// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

/// @dev The views the settlement worker reads.
contract ViewsTest is Base {
    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
    }

    function testFuzz_windowAt(uint256 offset) public view {
        offset = bound(offset, 0, 100 * 365 days);
        uint256 start = collector.getSubscription(SUB).start;
        assertEq(collector.windowAt(SUB, start + offset), offset / 30 days);
        assertEq(collector.windowAt(SUB, start - 1), 0);
    }

    function test_windowAt_revert_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, bytes32(0)));
        collector.windowAt(bytes32(0), block.timestamp);
    }

    function test_collectedInWindow() public {
        _collect(SUB, 1, 0, 3e6);
        assertEq(collector.collectedInWindow(SUB, 0), 3e6);
        assertEq(collector.collectedInWindow(SUB, 1), 0);
        vm.warp(block.timestamp + 30 days);
        _collect(SUB, 2, 1, 2e6);
        assertEq(collector.collectedInWindow(SUB, 1), 2e6);
        vm.expectRevert(abi.encodeWithSelector(ICollector.WindowNotTracked.selector, 0, 1));
        collector.collectedInWindow(SUB, 0);
    }

    function test_collectedInWindow_revert_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, keccak256("x")));
        collector.collectedInWindow(keccak256("x"), 0);
    }

    function test_remainingAllowanceAndHeadroom() public {
        assertEq(collector.remainingAllowance(SUB), CAP);
        assertEq(collector.headroom(SUB), CAP);
        _setTerms(SUB, ownerKey, 10e6, 30 days, 2);
        assertEq(collector.headroom(SUB), 10e6);
        _collect(SUB, 1, 0, 4e6);
        assertEq(collector.remainingAllowance(SUB), CAP - 4e6);
        assertEq(collector.headroom(SUB), 6e6);
        vm.warp(block.timestamp + 30 days);
        assertEq(collector.headroom(SUB), 10e6);
        vm.prank(owner);
        usdc.approve(address(collector), 3e6);
        assertEq(collector.headroom(SUB), 3e6);
    }

    function test_remainingAllowance_revert_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, keccak256("x")));
        collector.remainingAllowance(keccak256("x"));
    }

    function test_getSubscription_unknownIsZero() public view {
        ICollector.Subscription memory s = collector.getSubscription(keccak256("x"));
        assertEq(s.owner, address(0));
        assertEq(s.status, 0);
    }

    function test_lastSeqAndLive() public {
        assertEq(collector.lastSeq(SUB), 0);
        _collect(SUB, 1, 0, 1e6);
        assertEq(collector.lastSeq(SUB), 1);
        assertEq(collector.liveSubscriptionOf(owner), SUB);
        assertEq(collector.liveSubscriptionOf(stranger), bytes32(0));
    }

    function test_domainSeparator() public {
        assertEq(collector.DOMAIN_SEPARATOR(), _domain(block.chainid, address(collector)));
        vm.chainId(84532);
        assertEq(collector.DOMAIN_SEPARATOR(), _domain(84532, address(collector)));
    }
}
