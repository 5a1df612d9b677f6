// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract CollectTest is Base {
    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
    }

    function test_collect_success_paysPayeeDirectly() public {
        vm.expectEmit(address(collector));
        emit ICollector.Collected(SUB, _packed(1, 0, 7e6, 7e6, 7e6));
        _collect(SUB, 1, 0, 7e6);
        assertEq(usdc.balanceOf(payee), 7e6);
        assertEq(usdc.balanceOf(owner), 1_000_000e6 - 7e6);
        assertEq(usdc.balanceOf(address(collector)), 0);
        assertEq(usdc.allowance(owner, address(collector)), CAP - 7e6);
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.lastSeq, 1);
        assertEq(s.collectedInWindow, 7e6);
        assertEq(s.totalCollected, 7e6);
    }

    function testFuzz_collect_success_sequenceOfCharges(uint64[8] memory amounts) public {
        uint256 total;
        for (uint32 i; i < amounts.length; ++i) {
            uint64 amount = uint64(bound(amounts[i], 1, 10e6));
            total += amount;
            vm.expectEmit(address(collector));
            emit ICollector.Collected(SUB, _packed(i + 1, 0, amount, uint64(total), uint64(total)));
            _collect(SUB, i + 1, 0, amount);
        }
        assertEq(usdc.balanceOf(payee), total);
        assertEq(collector.lastSeq(SUB), 8);
    }

    function testFuzz_collect_success_windowsRollFromAuthorization(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 20 * 365 days);
        vm.warp(block.timestamp + elapsed);
        uint32 window = uint32(elapsed / 30 days);
        assertEq(collector.windowAt(SUB, block.timestamp), window);
        _collect(SUB, 1, window, 1e6);
        assertEq(collector.getSubscription(SUB).lastWindow, window);
    }

    function test_collect_success_previousWindowThenCurrent() public {
        _collect(SUB, 1, 0, 1e6);
        vm.warp(block.timestamp + 30 days);
        // Late charge for window 0, then the first of window 1.
        vm.expectEmit(address(collector));
        emit ICollector.Collected(SUB, _packed(2, 0, 2e6, 3e6, 3e6));
        _collect(SUB, 2, 0, 2e6);
        vm.expectEmit(address(collector));
        emit ICollector.Collected(SUB, _packed(3, 1, 4e6, 4e6, 7e6));
        _collect(SUB, 3, 1, 4e6);
    }

    function test_collect_success_limitResetsEachWindow() public {
        _setTerms(SUB, ownerKey, 10e6, 30 days, 2);
        _collect(SUB, 1, 0, 10e6);
        vm.warp(block.timestamp + 30 days);
        _collect(SUB, 2, 1, 10e6);
        assertEq(collector.collectedInWindow(SUB, 1), 10e6);
        assertEq(collector.getSubscription(SUB).totalCollected, 20e6);
    }

    function testFuzz_collect_success_withinLimit(uint64 limit, uint64 a, uint64 b) public {
        limit = uint64(bound(limit, 2, CAP));
        a = uint64(bound(a, 1, limit - 1));
        b = uint64(bound(b, 1, limit - a));
        _setTerms(SUB, ownerKey, limit, 30 days, 2);
        _collect(SUB, 1, 0, a);
        _collect(SUB, 2, 0, b);
        assertEq(collector.collectedInWindow(SUB, 0), a + b);
    }

    function test_collect_revert_notOperator() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, stranger));
        vm.prank(stranger);
        collector.collect(_charge(SUB, 1, 0, 1e6));
    }

    function test_collect_revert_unknownSubscription() public {
        bytes32 id = keccak256("nope");
        _expectCollectRevert(id, 1, ICollector.FailureReason.UnknownSubscription);
        _collect(id, 1, 0, 1e6);
    }

    function test_collect_revert_canceled() public {
        vm.prank(owner);
        collector.cancel(SUB);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Canceled);
        _collect(SUB, 1, 0, 1e6);
    }

    function test_collect_revert_seqUsed() public {
        _collect(SUB, 1, 0, 1e6);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.SeqUsed);
        _collect(SUB, 1, 0, 1e6);
    }

    function testFuzz_collect_revert_seqGap(uint32 seq) public {
        seq = uint32(bound(seq, 2, type(uint32).max));
        _expectCollectRevert(SUB, seq, ICollector.FailureReason.SeqGap);
        _collect(SUB, seq, 0, 1e6);
    }

    function test_collect_revert_seqZero() public {
        _expectCollectRevert(SUB, 0, ICollector.FailureReason.SeqUsed);
        _collect(SUB, 0, 0, 1e6);
    }

    function testFuzz_collect_revert_futureWindow(uint32 window) public {
        window = uint32(bound(window, 1, type(uint32).max));
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Window);
        _collect(SUB, 1, window, 1e6);
    }

    function testFuzz_collect_revert_windowTooOld(uint256 elapsedWindows, uint32 window) public {
        elapsedWindows = bound(elapsedWindows, 2, 200);
        window = uint32(bound(window, 0, elapsedWindows - 2));
        vm.warp(block.timestamp + elapsedWindows * 30 days);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Window);
        _collect(SUB, 1, window, 1e6);
    }

    function test_collect_revert_windowBackwards() public {
        vm.warp(block.timestamp + 30 days);
        _collect(SUB, 1, 1, 1e6);
        _expectCollectRevert(SUB, 2, ICollector.FailureReason.Window);
        _collect(SUB, 2, 0, 1e6);
    }

    function testFuzz_collect_revert_overLimit(uint64 limit, uint64 spent, uint64 over) public {
        limit = uint64(bound(limit, 1, CAP - 1));
        spent = uint64(bound(spent, 0, limit));
        over = uint64(bound(over, limit - spent + 1, CAP - spent));
        _setTerms(SUB, ownerKey, limit, 30 days, 2);
        uint32 seq = 1;
        if (spent > 0) _collect(SUB, seq++, 0, spent);
        _expectCollectRevert(SUB, seq, ICollector.FailureReason.Limit);
        _collect(SUB, seq, 0, over);
    }

    function test_collect_revert_zeroAmount() public {
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Amount);
        _collect(SUB, 1, 0, 0);
    }

    function testFuzz_collect_revert_overAllowance(uint64 amount) public {
        vm.prank(owner);
        usdc.approve(address(collector), CAP / 2);
        amount = uint64(bound(amount, CAP / 2 + 1, CAP));
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Allowance);
        _collect(SUB, 1, 0, amount);
    }

    /// @dev The lifetime cap the owner signed binds whatever the allowance: an allowance raised by
    /// other means (here the owner's own approve) never lets a charge past it.
    function testFuzz_collect_revert_overCap(uint64 amount) public {
        vm.prank(owner);
        usdc.approve(address(collector), type(uint256).max);
        amount = uint64(bound(amount, CAP + 1, type(uint64).max));
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Cap);
        _collect(SUB, 1, 0, amount);
        _collect(SUB, 1, 0, uint64(CAP));
        _expectCollectRevert(SUB, 2, ICollector.FailureReason.Cap);
        _collect(SUB, 2, 0, 1);
    }

    function test_collect_revert_allowanceRevokedByOwner() public {
        vm.prank(owner);
        usdc.approve(address(collector), 0);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Allowance);
        _collect(SUB, 1, 0, 1e6);
    }

    function test_collect_revert_balance() public {
        vm.prank(owner);
        usdc.transfer(stranger, 1_000_000e6 - 1e6);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Balance);
        _collect(SUB, 1, 0, 2e6);
    }

    function test_collect_revert_paused() public {
        vm.prank(pauser);
        usdc.pause();
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Paused);
        _collect(SUB, 1, 0, 1e6);
    }

    function test_collect_revert_payerBlacklisted() public {
        vm.prank(blacklister);
        usdc.blacklist(owner);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Blacklisted);
        _collect(SUB, 1, 0, 1e6);
    }

    function test_collect_revert_payeeBlacklisted() public {
        vm.prank(blacklister);
        usdc.blacklist(payee);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Blacklisted);
        _collect(SUB, 1, 0, 1e6);
    }

    /// @dev A failed charge keeps its number: after the cause is fixed, the same seq succeeds.
    function test_collect_success_failedSeqIsReusable() public {
        vm.prank(pauser);
        usdc.pause();
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Paused);
        _collect(SUB, 1, 0, 1e6);
        vm.prank(pauser);
        usdc.unpause();
        _collect(SUB, 1, 0, 1e6);
        assertEq(collector.lastSeq(SUB), 1);
    }

    /// @dev A starved token call must not look like a declined payer: with any gas, the call either
    /// collects, or reverts without a `CollectReverted` reason and without consuming the seq.
    function testFuzz_collect_revert_starvedNeverDeclines(uint256 gas) public {
        gas = bound(gas, 25_000, 120_000);
        vm.prank(operator);
        try collector.collect{gas: gas}(_charge(SUB, 1, 0, 1e6)) {
            assertEq(collector.lastSeq(SUB), 1);
        } catch (bytes memory reason) {
            assertTrue(reason.length < 4 || bytes4(reason) != ICollector.CollectReverted.selector);
            assertEq(collector.lastSeq(SUB), 0);
        }
    }

    /// @dev Window indexes are stored in 24 bits; beyond that (centuries away) charges are refused
    /// rather than corrupting the state word.
    function test_collect_revert_windowBeyond24Bits() public {
        _setTerms(SUB, ownerKey, 0, 1 hours, 2);
        uint32 window = uint32(type(uint24).max) + 1;
        vm.warp(block.timestamp + uint256(window) * 1 hours);
        assertEq(collector.windowAt(SUB, block.timestamp), window);
        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Window);
        _collect(SUB, 1, window, 1e6);
        _collect(SUB, 1, window - 1, 1e6);
        assertEq(collector.getSubscription(SUB).status, 1);
    }
}
