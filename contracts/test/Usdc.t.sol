// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {DeployUsdc, UsdcRoles} from "./utils/DeployUsdc.sol";
import {IFiatToken} from "./utils/IFiatToken.sol";

/// @notice Smoke test: the real FiatToken v2.2 deploys from the npm artifacts and its permit works.
contract UsdcTest is Test {
    IFiatToken internal usdc;
    address internal masterMinter = makeAddr("masterMinter");

    function setUp() public {
        usdc = DeployUsdc.deploy(
            UsdcRoles({
                proxyAdmin: makeAddr("proxyAdmin"),
                masterMinter: masterMinter,
                pauser: makeAddr("pauser"),
                blacklister: makeAddr("blacklister"),
                owner: makeAddr("usdcOwner"),
                lostAndFound: makeAddr("lostAndFound")
            })
        );
    }

    function test_usdc_success_metadata() public view {
        assertEq(usdc.name(), "USD Coin");
        assertEq(usdc.symbol(), "USDC");
        assertEq(usdc.decimals(), 6);
        assertEq(usdc.version(), "2");
    }

    function test_usdc_success_permitThenTransferFrom() public {
        (address owner, uint256 key) = makeAddrAndKey("owner");
        address spender = makeAddr("spender");
        address payee = makeAddr("payee");
        vm.prank(masterMinter);
        usdc.configureMinter(address(this), type(uint256).max);
        usdc.mint(owner, 100e6);

        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash =
            keccak256(abi.encode(usdc.PERMIT_TYPEHASH(), owner, spender, 40e6, usdc.nonces(owner), deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        usdc.permit(owner, spender, 40e6, deadline, v, r, s);
        assertEq(usdc.allowance(owner, spender), 40e6);
        assertEq(usdc.nonces(owner), 1);

        vm.prank(spender);
        usdc.transferFrom(owner, payee, 25e6);
        assertEq(usdc.balanceOf(payee), 25e6);
        assertEq(usdc.balanceOf(owner), 75e6);
        assertEq(usdc.allowance(owner, spender), 15e6);
    }
}
