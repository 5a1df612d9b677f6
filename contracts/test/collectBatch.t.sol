// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract CollectBatchTest is Base {
    uint256 internal constant N = 5;
    uint256[N] internal keys;
    bytes32[N] internal ids;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < N; ++i) {
            (address who, uint256 key) = makeAddrAndKey(string.concat("payer", vm.toString(i)));
            keys[i] = key;
            ids[i] = keccak256(abi.encode("batch", i));
            usdc.mint(who, 1_000e6);
            _authorize(ids[i], key, CAP);
        }
    }

    function _all(uint32 seq, uint64 amount) internal view returns (ICollector.Charge[] memory charges) {
        charges = new ICollector.Charge[](N);
        for (uint256 i; i < N; ++i) {
            charges[i] = _charge(ids[i], seq, 0, amount);
        }
    }

    function _batch(ICollector.Charge[] memory charges) internal returns (uint256) {
        vm.prank(operator);
        return collector.collectBatch(charges);
    }

    function test_collectBatch_success_all() public {
        for (uint256 i; i < N; ++i) {
            vm.expectEmit(address(collector));
            emit ICollector.Collected(ids[i], _packed(1, 0, 2e6, 2e6, 2e6));
        }
        assertEq(_batch(_all(1, 2e6)), N);
        assertEq(usdc.balanceOf(payee), N * 2e6);
        assertEq(usdc.balanceOf(address(collector)), 0);
    }

    function testFuzz_collectBatch_success_amounts(uint64[N] memory amounts) public {
        ICollector.Charge[] memory charges = _all(1, 0);
        uint256 total;
        for (uint256 i; i < N; ++i) {
            charges[i].amount = uint64(bound(amounts[i], 1, CAP));
            total += charges[i].amount;
        }
        assertEq(_batch(charges), N);
        assertEq(usdc.balanceOf(payee), total);
    }

    /// @dev One payer cannot pay: it gets a failure event, the others are collected.
    function test_collectBatch_success_failedItemLeavesOthers() public {
        address blocked = vm.addr(keys[2]);
        vm.prank(blacklister);
        usdc.blacklist(blocked);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[2], 1, 0, 3e6, ICollector.FailureReason.Blacklisted);
        assertEq(_batch(_all(1, 3e6)), N - 1);
        assertEq(collector.lastSeq(ids[2]), 0);
        assertEq(collector.lastSeq(ids[3]), 1);
        assertEq(usdc.balanceOf(payee), (N - 1) * 3e6);
    }

    function test_collectBatch_success_everyReason() public {
        ICollector.Charge[] memory charges = new ICollector.Charge[](7);
        vm.prank(vm.addr(keys[3]));
        usdc.approve(address(collector), 1e6 - 1);
        charges[0] = _charge(keccak256("unknown"), 1, 0, 1e6);
        charges[1] = _charge(ids[0], 2, 0, 1e6); // gap
        charges[2] = _charge(ids[1], 1, 5, 1e6); // future window
        charges[3] = _charge(ids[2], 1, 0, 0); // zero
        charges[4] = _charge(ids[3], 1, 0, 1e6); // allowance
        charges[5] = _charge(ids[4], 1, 0, 1e6); // ok
        charges[6] = _charge(ids[4], 2, 0, uint64(CAP)); // past the signed cap
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(
            charges[0].subscription, 1, 0, 1e6, ICollector.FailureReason.UnknownSubscription
        );
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[0], 2, 0, 1e6, ICollector.FailureReason.SeqGap);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[1], 1, 5, 1e6, ICollector.FailureReason.Window);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[2], 1, 0, 0, ICollector.FailureReason.Amount);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[3], 1, 0, 1e6, ICollector.FailureReason.Allowance);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[4], 2, 0, uint64(CAP), ICollector.FailureReason.Cap);
        assertEq(_batch(charges), 1);
    }

    function test_collectBatch_success_sameSubscriptionTwice() public {
        ICollector.Charge[] memory charges = new ICollector.Charge[](3);
        charges[0] = _charge(ids[0], 1, 0, 1e6);
        charges[1] = _charge(ids[0], 2, 0, 2e6);
        charges[2] = _charge(ids[0], 2, 0, 2e6); // duplicate in the same batch
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(ids[0], 2, 0, 2e6, ICollector.FailureReason.SeqUsed);
        assertEq(_batch(charges), 2);
        assertEq(collector.getSubscription(ids[0]).totalCollected, 3e6);
    }

    /// @dev A replacement (or replayed) transaction with the same items collects nothing twice.
    function test_collectBatch_success_replayCollectsNothing() public {
        ICollector.Charge[] memory charges = _all(1, 2e6);
        _batch(charges);
        uint256 paid = usdc.balanceOf(payee);
        assertEq(_batch(charges), 0);
        assertEq(usdc.balanceOf(payee), paid);
    }

    function test_collectBatch_success_empty() public {
        assertEq(_batch(new ICollector.Charge[](0)), 0);
    }

    function test_collectBatch_revert_notOperator() public {
        ICollector.Charge[] memory charges = _all(1, 1e6);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, stranger));
        vm.prank(stranger);
        collector.collectBatch(charges);
    }

    /// @dev Too little gas for the next item: the whole batch reverts, no payer is marked declined.
    function test_collectBatch_revert_insufficientGas() public {
        ICollector.Charge[] memory charges = _all(1, 1e6);
        vm.prank(operator);
        vm.expectPartialRevert(ICollector.InsufficientGas.selector);
        collector.collectBatch{gas: 150_000}(charges);
        for (uint256 i; i < N; ++i) {
            assertEq(collector.lastSeq(ids[i]), 0);
        }
    }

    function testFuzz_collectBatch_revert_insufficientGasNeverMarksFailure(uint256 gas) public {
        gas = bound(gas, 30_000, 300_000);
        ICollector.Charge[] memory charges = _all(1, 1e6);
        vm.recordLogs();
        vm.prank(operator);
        try collector.collectBatch{gas: gas}(charges) returns (uint256 collected) {
            assertEq(collected, N);
        } catch {}
        // Whatever happened, no ChargeFailed was emitted.
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != ICollector.ChargeFailed.selector);
        }
    }
}
