// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract SetOperatorTest is Base {
    function testFuzz_setOperator_success(address account) public {
        vm.assume(account != address(0));
        vm.expectEmit(address(collector));
        emit ICollector.OperatorSet(account, true);
        vm.prank(admin);
        collector.setOperator(account, true);
        assertTrue(collector.isOperator(account));
        vm.prank(admin);
        collector.setOperator(account, false);
        assertFalse(collector.isOperator(account));
    }

    function test_setOperator_success_removedOperatorCannotCollect() public {
        _authorize(SUB, ownerKey, CAP);
        vm.prank(admin);
        collector.setOperator(operator, false);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotOperator.selector, operator));
        _collect(SUB, 1, 0, 1e6);
    }

    function test_setOperator_revert_notAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotAdmin.selector, operator));
        vm.prank(operator);
        collector.setOperator(stranger, true);
    }

    function test_setOperator_revert_zeroAddress() public {
        vm.expectRevert(ICollector.ZeroValue.selector);
        vm.prank(admin);
        collector.setOperator(address(0), true);
    }
}
