// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract TransferAdminTest is Base {
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
}
