// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

/// @dev setOperator, transferAdmin, acceptAdmin and the constructor.
contract AdminTest is Base {
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

    function test_transferAdmin_success_twoStep() public {
        address next = makeAddr("next");
        vm.expectEmit(address(collector));
        emit ICollector.AdminTransferStarted(admin, next);
        vm.prank(admin);
        collector.transferAdmin(next);
        assertEq(collector.admin(), admin);
        vm.expectEmit(address(collector));
        emit ICollector.AdminTransferred(admin, next);
        vm.prank(next);
        collector.acceptAdmin();
        assertEq(collector.admin(), next);
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotAdmin.selector, admin));
        vm.prank(admin);
        collector.setOperator(stranger, true);
    }

    function test_transferAdmin_revert_notAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotAdmin.selector, stranger));
        vm.prank(stranger);
        collector.transferAdmin(stranger);
    }

    function test_acceptAdmin_revert_notPending() public {
        vm.prank(admin);
        collector.transferAdmin(makeAddr("next"));
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotAdmin.selector, stranger));
        vm.prank(stranger);
        collector.acceptAdmin();
    }

    function test_acceptAdmin_revert_nonePending() public {
        vm.expectRevert(abi.encodeWithSelector(ICollector.NotAdmin.selector, address(0)));
        vm.prank(address(0));
        collector.acceptAdmin();
    }

    function test_constructor_success() public view {
        assertEq(collector.TOKEN(), address(usdc));
        assertEq(collector.PAYEE(), payee);
        assertEq(collector.VALIDATOR(), address(validator));
        assertEq(collector.admin(), admin);
        assertTrue(collector.isOperator(operator));
        assertFalse(collector.isOperator(stranger));
    }

    function test_constructor_revert_zeroPayee() public {
        vm.expectRevert(ICollector.ZeroValue.selector);
        _deployCollector(address(usdc), address(0), admin, new address[](0));
    }

    function test_constructor_revert_zeroToken() public {
        vm.expectRevert(ICollector.ZeroValue.selector);
        _deployCollector(address(0), payee, admin, new address[](0));
    }

    function test_constructor_revert_zeroAdmin() public {
        vm.expectRevert(ICollector.ZeroValue.selector);
        _deployCollector(address(usdc), payee, address(0), new address[](0));
    }
}
