// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";

contract ConstructorTest is Base {
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
