// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

/// @dev The known traps of real USDC (docs/design.md, On-chain), each end to end.
contract UsdcTrapsTest is Base {
    /// @dev Anyone may submit a signed permit first: "already used, allowance in place" is success.
    function test_trap_permitSubmittedFirstBySomeoneElse() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        vm.prank(stranger);
        usdc.permit(owner, address(collector), p.value, p.deadline, sig);
        _open(SUB, owner, ownerKey, p, sig);
        _collect(SUB, 1, 0, 5e6);
        assertEq(usdc.balanceOf(payee), 5e6);
    }

    /// @dev The 2612 nonce is one per owner across apps: another app's permit consumed it. The
    /// operator learns it (PermitNonceUsed → needs_reauth), the owner signs again, same subscription id.
    function test_trap_permitNonceConsumedByAnotherApp() public {
        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, CAP);
        address otherApp = makeAddr("otherApp");
        usdc.permit(
            owner, otherApp, 1, p.deadline, _sign(ownerKey, _permitDigest(owner, otherApp, 1, 0, p.deadline))
        );
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitNonceUsed.selector, owner, 0));
        _open(SUB, owner, ownerKey, p, sig);

        (p, sig) = _permit(ownerKey, CAP);
        assertEq(p.nonce, 1);
        _open(SUB, owner, ownerKey, p, sig);
        assertEq(usdc.allowance(owner, address(collector)), CAP);
    }

    /// @dev v2.2 no longer checks the blacklist in permit: the permit succeeds, every pull fails.
    function test_trap_blacklistedPayerPermitSucceedsPullsFail() public {
        vm.prank(blacklister);
        usdc.blacklist(owner);
        _authorize(SUB, ownerKey, CAP);
        assertEq(usdc.allowance(owner, address(collector)), CAP);

        _expectCollectRevert(SUB, 1, ICollector.FailureReason.Blacklisted);
        _collect(SUB, 1, 0, 1e6);

        ICollector.Charge[] memory charges = new ICollector.Charge[](1);
        charges[0] = _charge(SUB, 1, 0, 1e6);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(SUB, 1, 0, 1e6, ICollector.FailureReason.Blacklisted);
        vm.prank(operator);
        assertEq(collector.collectBatch(charges), 0);
        assertEq(collector.lastSeq(SUB), 0);
    }

    /// @dev A paused token refuses permits and pulls; after unpause the same seq collects.
    function test_trap_pausedToken() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(pauser);
        usdc.pause();

        (ICollector.Permit memory p, bytes memory sig) = _permit(ownerKey, 2 * CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollector.PermitRejected.selector, owner));
        vm.prank(operator);
        collector.authorize(SUB, owner, p, sig, type(uint64).max);

        ICollector.Charge[] memory charges = new ICollector.Charge[](1);
        charges[0] = _charge(SUB, 1, 0, 1e6);
        vm.expectEmit(address(collector));
        emit ICollector.ChargeFailed(SUB, 1, 0, 1e6, ICollector.FailureReason.Paused);
        vm.prank(operator);
        collector.collectBatch(charges);

        vm.prank(pauser);
        usdc.unpause();
        vm.prank(operator);
        assertEq(collector.collectBatch(charges), 1);
    }
}
