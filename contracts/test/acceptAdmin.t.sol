// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract AcceptAdminTest is Base {
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
}
