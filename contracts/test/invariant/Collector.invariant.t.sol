// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "../Base.t.sol";
import {ICollector} from "../../src/interfaces/ICollector.sol";
import {CollectorHandler} from "./CollectorHandler.sol";

/// @notice The money properties over random action sequences, against real USDC.
contract CollectorInvariantTest is Base {
    CollectorHandler internal handler;

    function setUp() public override {
        super.setUp();
        uint256[3] memory keys;
        for (uint256 i; i < 3; ++i) {
            (address who, uint256 key) = makeAddrAndKey(string.concat("inv-owner", vm.toString(i)));
            keys[i] = key;
            usdc.mint(who, 200e6);
        }
        handler = new CollectorHandler(collector, usdc, operator, pauser, keys);
        for (uint256 i; i < 3; ++i) {
            handler.authorize(i, 30e6);
        }
        targetContract(address(handler));
    }

    /// @dev What moved for a subscription never exceeds the allowances its owner signed, and since
    /// the owner's last permit, never more than that permit's value (a permit sets, not adds).
    function invariant_pulledNeverExceedsCap() public view {
        for (uint256 i; i < handler.subCount(); ++i) {
            bytes32 id = handler.subs(i);
            assertLe(handler.pulled(id), handler.authorizedTotal(id));
        }
        for (uint256 i; i < 3; ++i) {
            address who = handler.ownerAt(i);
            assertLe(handler.pulledSincePermit(who), handler.lastPermitValue(who));
        }
    }

    /// @dev A leaked operator key never takes more than the owner signed, whatever it submits: no
    /// subscription exists without the owner's terms for its id, and what moved for an id never
    /// exceeds the largest cap the owner signed for it.
    function invariant_leakedOperatorNeverExceedsSignedCap() public view {
        for (uint256 i; i < handler.rogueIdCount(); ++i) {
            bytes32 id = handler.rogueIds(i);
            if (collector.getSubscription(id).status != 0) assertTrue(handler.ownerTerms(id));
            assertLe(handler.pulled(id), handler.signedCap(id));
        }
        for (uint256 i; i < handler.subCount(); ++i) {
            bytes32 id = handler.subs(i);
            assertTrue(handler.ownerTerms(id));
            assertLe(handler.pulled(id), handler.signedCap(id));
        }
    }

    function invariant_windowNeverExceedsLimit() public view {
        assertFalse(handler.limitBreached());
    }

    /// @dev Exactly once: no seq collected twice, no retired seq ever collected.
    function invariant_noSeqCollectedTwice() public view {
        assertFalse(handler.doubleCollect());
        for (uint256 i; i < handler.subCount(); ++i) {
            bytes32 id = handler.subs(i);
            // Every seq is collected once or retired (never both), and none is skipped.
            assertEq(collector.lastSeq(id), handler.collectedCount(id) + handler.retiredCount(id));
        }
    }

    function invariant_nothingMovesAfterCancel() public view {
        assertFalse(handler.movedAfterCancel());
        for (uint256 i; i < handler.subCount(); ++i) {
            bytes32 id = handler.subs(i);
            if (handler.canceled(id)) {
                assertEq(collector.getSubscription(id).totalCollected, handler.pulledAtCancel(id));
            }
        }
    }

    function invariant_collectorHoldsNoBalance() public view {
        assertEq(usdc.balanceOf(address(collector)), 0);
    }

    /// @dev The chain's state agrees with the books rebuilt from `Collected` events alone.
    function invariant_historyRebuildsFromEvents() public view {
        assertFalse(handler.windowMismatch());
        assertEq(usdc.balanceOf(payee), handler.pulledSum());
        for (uint256 i; i < handler.subCount(); ++i) {
            bytes32 id = handler.subs(i);
            assertEq(collector.getSubscription(id).totalCollected, handler.pulled(id));
        }
    }

    /// @dev A lone subscription at most: one live per paying wallet.
    function invariant_oneLiveSubscriptionPerOwner() public view {
        for (uint256 i; i < handler.subCount(); ++i) {
            bytes32 id = handler.subs(i);
            ICollector.Subscription memory s = collector.getSubscription(id);
            if (s.status == 1) assertEq(collector.liveSubscriptionOf(s.owner), id);
        }
    }

    /// @dev Guards against a vacuous suite: a fixed pseudo-random walk through the same handler
    /// does move money, cancel, and open new subscriptions.
    function test_handler_exercisesTheMoneyPaths() public {
        for (uint256 i; i < 300; ++i) {
            uint256 r = uint256(keccak256(abi.encode("walk", i)));
            uint256 action = r % 8;
            if (action == 0) {
                handler.authorize(r >> 8, r >> 16);
            } else if (action == 1) {
                handler.setTerms(
                    r >> 8, uint64(r >> 16), uint32(r >> 80), (r >> 120) % 2 == 0, (r >> 121) % 5 == 0
                );
            } else if (action == 2) {
                handler.collect(r >> 8, uint64(r >> 16), (r >> 80) % 3 == 0, uint8(r >> 88) % 5);
            } else if (action == 3) {
                handler.collectBatch(r >> 8, uint8(r >> 16), uint64(r >> 24));
            } else if (action == 4) {
                handler.cancel(r >> 8, (r >> 16) % 2 == 0);
            } else if (action == 5) {
                handler.warp(r >> 8);
            } else if (action == 6) {
                handler.togglePause(r >> 8);
            } else {
                handler.rogue(r >> 8, uint64(r >> 40), uint32(r >> 104));
            }
        }
        assertGt(handler.pulledSum(), 0);
        assertGt(handler.subCount(), 3);
        invariant_pulledNeverExceedsCap();
        invariant_noSeqCollectedTwice();
        invariant_historyRebuildsFromEvents();
        invariant_leakedOperatorNeverExceedsSignedCap();
        assertGt(handler.rogueCalls(), 0);
        emit log_named_uint("pulled", handler.pulledSum());
        emit log_named_uint("subscriptions", handler.subCount());
    }
}
