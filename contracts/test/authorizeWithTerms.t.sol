// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

/// @dev First authorization with a monthly limit: two signatures, one transaction.
contract AuthorizeWithTermsTest is Base {
    function _call(ICollector.Terms memory t, bytes memory termsSig) internal {
        (ICollector.Permit memory p, bytes memory permitSig) = _permit(ownerKey, CAP);
        vm.prank(operator);
        collector.authorizeWithTerms(SUB, owner, p, permitSig, t, termsSig);
    }

    function testFuzz_authorizeWithTerms_success(uint64 limit, uint32 period) public {
        period = uint32(bound(period, collector.MIN_PERIOD(), collector.MAX_PERIOD()));
        ICollector.Terms memory t = _terms(limit, period, 1);
        _call(t, _sign(ownerKey, _termsDigest(SUB, t)));
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.limit, limit);
        assertEq(s.period, period);
        assertEq(s.start, block.timestamp);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
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
}
