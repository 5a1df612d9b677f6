// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {SignatureValidator6492} from "../src/SignatureValidator6492.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";
import {MockERC1271Wallet, MockWalletFactory} from "./mocks/MockERC1271Wallet.sol";
import {DeployUsdc, UsdcRoles} from "./utils/DeployUsdc.sol";
import {IFiatToken} from "./utils/IFiatToken.sol";

/// @notice Shared set-up and signing helpers: real FiatToken v2.2 from the npm artifacts, the
/// validator, and a collector with one operator and a fixed payee.
abstract contract Base is Test {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant TERMS_TYPEHASH = keccak256(
        "Terms(bytes32 subscription,uint64 cap,uint64 limit,uint32 period,uint32 nonce,uint256 deadline)"
    );
    uint64 internal constant MAX_AMOUNT = 2 ** 48 - 1;
    bytes32 internal constant ERC6492_MAGIC =
        0x6492649264926492649264926492649264926492649264926492649264926492;
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant CAP = 100e6;
    bytes32 internal constant SUB = keccak256("subscription-1");

    IFiatToken internal usdc;
    ICollector internal collector;
    SignatureValidator6492 internal validator;
    MockWalletFactory internal factory;

    address internal admin = makeAddr("admin");
    address internal operator = makeAddr("operator");
    address internal payee = makeAddr("payee");
    address internal masterMinter = makeAddr("masterMinter");
    address internal pauser = makeAddr("pauser");
    address internal blacklister = makeAddr("blacklister");
    address internal stranger = makeAddr("stranger");
    address internal owner;
    uint256 internal ownerKey;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        usdc = DeployUsdc.deploy(
            UsdcRoles({
                proxyAdmin: makeAddr("proxyAdmin"),
                masterMinter: masterMinter,
                pauser: pauser,
                blacklister: blacklister,
                owner: makeAddr("usdcOwner"),
                lostAndFound: makeAddr("lostAndFound")
            })
        );
        validator = new SignatureValidator6492();
        address[] memory operators = new address[](1);
        operators[0] = operator;
        collector = _deployCollector(address(usdc), payee, admin, operators);
        factory = new MockWalletFactory();
        vm.prank(masterMinter);
        usdc.configureMinter(address(this), type(uint256).max);
        (owner, ownerKey) = makeAddrAndKey("owner");
        usdc.mint(owner, 1_000_000e6);
    }

    /// @dev The collector from its artifact (compiled through the IR pipeline; see foundry.toml),
    /// so tests never import Collector.sol and compile fast.
    function _deployCollector(address token, address payee_, address admin_, address[] memory operators)
        internal
        returns (ICollector deployed)
    {
        bytes memory code = abi.encodePacked(
            vm.getCode("Collector.sol:Collector"),
            abi.encode(token, payee_, address(validator), admin_, operators)
        );
        assembly {
            deployed := create(0, add(code, 0x20), mload(code))
        }
    }

    // ------------------------------------------------------------------ signing

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The same signature with s flipped to the upper half: what EIP-2 and USDC refuse.
    function _highS(bytes memory signature) internal pure returns (bytes memory) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function _permitDigest(address who, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, who, spender, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash));
    }

    /// @dev A permit for the collector at the owner's current token nonce.
    function _permit(uint256 key, uint256 value)
        internal
        view
        returns (ICollector.Permit memory p, bytes memory sig)
    {
        return _permitFor(vm.addr(key), key, value, block.timestamp + 1 days);
    }

    function _permitFor(address who, uint256 key, uint256 value, uint256 deadline)
        internal
        view
        returns (ICollector.Permit memory p, bytes memory sig)
    {
        p = ICollector.Permit({value: value, deadline: deadline, nonce: usdc.nonces(who)});
        sig = _sign(key, _permitDigest(who, address(collector), value, p.nonce, deadline));
    }

    function _domain(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("Tollgate Collector"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
    }

    function _termsDigest(bytes32 id, ICollector.Terms memory t) internal view returns (bytes32) {
        return _termsDigestOn(block.chainid, address(collector), id, t);
    }

    function _termsDigestOn(uint256 chainId, address verifying, bytes32 id, ICollector.Terms memory t)
        internal
        pure
        returns (bytes32)
    {
        bytes32 structHash =
            keccak256(abi.encode(TERMS_TYPEHASH, id, t.cap, t.limit, t.period, t.nonce, t.deadline));
        return keccak256(abi.encodePacked("\x19\x01", _domain(chainId, verifying), structHash));
    }

    /// @dev Terms with the lifetime cap `CAP`.
    function _terms(uint64 limit, uint32 period, uint32 nonce)
        internal
        view
        returns (ICollector.Terms memory)
    {
        return _termsCapped(uint64(CAP), limit, period, nonce);
    }

    function _termsCapped(uint64 cap, uint64 limit, uint32 period, uint32 nonce)
        internal
        view
        returns (ICollector.Terms memory)
    {
        return ICollector.Terms({
            cap: cap, limit: limit, period: period, nonce: nonce, deadline: block.timestamp + 1 hours
        });
    }

    /// @dev The owner's zero-value permit for the collector at their current token nonce: a cancel.
    function _zeroPermit(uint256 key) internal view returns (ICollector.Permit memory p, bytes memory sig) {
        return _permitFor(vm.addr(key), key, 0, block.timestamp + 1 hours);
    }

    /// @dev Wraps `inner` as ERC-6492 for a wallet `factory.deploy(signer, salt)` would create.
    function _wrap6492(address signer, bytes32 salt, bytes memory inner)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodePacked(
            abi.encode(address(factory), abi.encodeCall(MockWalletFactory.deploy, (signer, salt)), inner),
            ERC6492_MAGIC
        );
    }

    // ------------------------------------------------------------------ actions

    /// @dev Opens `id` (permit and terms: cap = the permit's value, no limit, 30-day windows, terms
    /// nonce 1), or tops up the owner's live `id` with a permit alone.
    function _authorize(bytes32 id, uint256 key, uint256 value) internal {
        (ICollector.Permit memory p, bytes memory sig) = _permit(key, value);
        if (collector.getSubscription(id).status == 1) {
            vm.prank(operator);
            collector.authorize(id, vm.addr(key), p, sig, type(uint64).max);
        } else {
            _open(id, vm.addr(key), key, p, sig);
        }
    }

    /// @dev `authorizeWithTerms` as the operator, with terms (cap = the permit's value, no limit,
    /// 30 days, nonce 1) signed by `key` for `id`.
    function _open(bytes32 id, address who, uint256 key, ICollector.Permit memory p, bytes memory permitSig)
        internal
    {
        uint64 cap = p.value > MAX_AMOUNT ? MAX_AMOUNT : uint64(p.value);
        ICollector.Terms memory t = _termsCapped(cap, 0, 30 days, 1);
        bytes memory termsSig = _sign(key, _termsDigest(id, t));
        vm.prank(operator);
        collector.authorizeWithTerms(id, who, p, permitSig, t, termsSig);
    }

    function _setTerms(bytes32 id, uint256 key, uint64 limit, uint32 period, uint32 nonce) internal {
        ICollector.Terms memory t = _terms(limit, period, nonce);
        collector.setTerms(id, t, _sign(key, _termsDigest(id, t)));
    }

    function _charge(bytes32 id, uint32 seq, uint32 window, uint64 amount)
        internal
        pure
        returns (ICollector.Charge memory)
    {
        return ICollector.Charge({subscription: id, seq: seq, window: window, amount: amount});
    }

    function _collect(bytes32 id, uint32 seq, uint32 window, uint64 amount) internal {
        vm.prank(operator);
        collector.collect(_charge(id, seq, window, amount));
    }

    function _expectCollectRevert(bytes32 id, uint32 seq, ICollector.FailureReason reason) internal {
        vm.expectRevert(abi.encodeWithSelector(ICollector.CollectReverted.selector, id, seq, reason));
    }

    /// @dev The Collected event's packed data word.
    function _packed(uint32 seq, uint32 window, uint64 amount, uint64 inWindow, uint64 total)
        internal
        pure
        returns (uint256)
    {
        return uint256(seq) | (uint256(window) << 32) | (uint256(amount) << 64) | (uint256(inWindow) << 128)
            | (uint256(total) << 192);
    }

    function _newWallet(string memory name) internal returns (MockERC1271Wallet wallet, uint256 key) {
        address signer;
        (signer, key) = makeAddrAndKey(name);
        wallet = new MockERC1271Wallet(signer);
    }
}
