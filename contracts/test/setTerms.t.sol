// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Base} from "./Base.t.sol";
import {ICollector} from "../src/interfaces/ICollector.sol";
import {MockERC1271Wallet, RejectingWallet} from "./mocks/MockERC1271Wallet.sol";

contract SetTermsTest is Base {
    function setUp() public override {
        super.setUp();
        _authorize(SUB, ownerKey, CAP);
    }

    function _signed(uint64 limit, uint32 period, uint32 nonce)
        internal
        view
        returns (ICollector.Terms memory t, bytes memory sig)
    {
        t = _terms(limit, period, nonce);
        sig = _sign(ownerKey, _termsDigest(SUB, t));
    }

    function test_setTerms_success_setsLimitKeepsWindows() public {
        uint40 start = collector.getSubscription(SUB).start;
        vm.warp(block.timestamp + 1 days);
        (ICollector.Terms memory t, bytes memory sig) = _signed(25e6, 30 days, 2);
        vm.expectEmit(address(collector));
        emit ICollector.TermsSet(SUB, 25e6, 30 days, 2, start, uint64(CAP));
        collector.setTerms(SUB, t, sig);
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.limit, 25e6);
        assertEq(s.termsNonce, 2);
        assertEq(s.start, start);
    }

    function testFuzz_setTerms_success_newPeriodRestartsWindows(uint32 period, uint256 later) public {
        period = uint32(bound(period, collector.MIN_PERIOD(), collector.MAX_PERIOD()));
        vm.assume(period != 30 days);
        later = bound(later, 0, 400 days);
        _collect(SUB, 1, 0, 1e6);
        vm.warp(block.timestamp + later);
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, period, 2);
        collector.setTerms(SUB, t, sig);
        ICollector.Subscription memory s = collector.getSubscription(SUB);
        assertEq(s.start, block.timestamp);
        assertEq(s.period, period);
        assertEq(s.lastWindow, 0);
        assertEq(s.collectedInWindow, 0);
        assertEq(s.totalCollected, 1e6);
        assertEq(collector.windowAt(SUB, block.timestamp + period), 1);
        _collect(SUB, 2, 0, 5e6);
    }

    function test_setTerms_success_lowerLimitAppliesToCurrentWindow() public {
        _collect(SUB, 1, 0, 8e6);
        (ICollector.Terms memory t, bytes memory sig) = _signed(10e6, 30 days, 2);
        collector.setTerms(SUB, t, sig);
        _expectCollectRevert(SUB, 2, ICollector.FailureReason.Limit);
        _collect(SUB, 2, 0, 3e6);
        _collect(SUB, 2, 0, 2e6);
    }

    function test_setTerms_success_zeroLimitMeansNone() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        collector.setTerms(SUB, t, sig);
        (t, sig) = _signed(0, 30 days, 3);
        collector.setTerms(SUB, t, sig);
        _collect(SUB, 1, 0, 50e6);
    }

    function test_setTerms_success_anyoneMaySubmit() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        vm.prank(stranger);
        collector.setTerms(SUB, t, sig);
        assertEq(collector.getSubscription(SUB).limit, 5e6);
    }

    function testFuzz_setTerms_success_nonceMaySkip(uint32 nonce) public {
        nonce = uint32(bound(nonce, 2, type(uint24).max));
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, nonce);
        collector.setTerms(SUB, t, sig);
        assertEq(collector.getSubscription(SUB).termsNonce, nonce);
    }

    function test_setTerms_success_erc1271Owner() public {
        (MockERC1271Wallet wallet, uint256 key) = _newWallet("wallet");
        address w = address(wallet);
        bytes32 id = keccak256("wallet-sub");
        ICollector.Permit memory p =
            ICollector.Permit({value: CAP, deadline: block.timestamp + 1 days, nonce: 0});
        bytes memory permitSig = _sign(key, _permitDigest(w, address(collector), CAP, 0, p.deadline));
        _open(id, w, key, p, permitSig);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        collector.setTerms(id, t, _sign(key, _termsDigest(id, t)));
        assertEq(collector.getSubscription(id).limit, 5e6);
    }

    /// @dev An EOA that has code (EIP-7702 delegation): like USDC, only ERC-1271 counts, not its key.
    function test_setTerms_success_eip7702AccountUsesErc1271() public {
        (MockERC1271Wallet impl, uint256 walletKey) = _newWallet("delegate-key");
        vm.etch(owner, address(impl).code);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        // The account's own key no longer signs for it...
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, _sign(ownerKey, _termsDigest(SUB, t)));
        // ...its code decides.
        collector.setTerms(SUB, t, _sign(walletKey, _termsDigest(SUB, t)));
        assertEq(collector.getSubscription(SUB).limit, 5e6);
    }

    function test_setTerms_success_erc6492WrappedForDeployedWallet() public {
        (address signer, uint256 key) = makeAddrAndKey("cf-signer");
        bytes32 salt = keccak256("salt");
        address w = factory.deploy(signer, salt);
        bytes32 id = keccak256("cf-sub");
        ICollector.Permit memory p =
            ICollector.Permit({value: CAP, deadline: block.timestamp + 1 days, nonce: 0});
        bytes memory permitSig = _sign(key, _permitDigest(w, address(collector), CAP, 0, p.deadline));
        _open(id, w, key, p, permitSig);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        collector.setTerms(id, t, _wrap6492(signer, salt, _sign(key, _termsDigest(id, t))));
        assertEq(collector.getSubscription(id).limit, 5e6);
    }

    function test_setTerms_revert_erc6492BadInner() public {
        (address signer,) = makeAddrAndKey("cf-signer");
        bytes32 salt = keccak256("salt");
        address w = factory.deploy(signer, salt);
        (, uint256 key) = makeAddrAndKey("cf-signer");
        bytes32 id = keccak256("cf-sub");
        ICollector.Permit memory p =
            ICollector.Permit({value: CAP, deadline: block.timestamp + 1 days, nonce: 0});
        bytes memory permitSig = _sign(key, _permitDigest(w, address(collector), CAP, 0, p.deadline));
        _open(id, w, key, p, permitSig);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory wrong = _sign(ownerKey, _termsDigest(id, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(id, t, _wrap6492(signer, salt, wrong));
    }

    function test_setTerms_revert_unknownSubscription() public {
        bytes32 id = keccak256("nope");
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory sig = _sign(ownerKey, _termsDigest(id, t));
        vm.expectRevert(abi.encodeWithSelector(ICollector.UnknownSubscription.selector, id));
        collector.setTerms(id, t, sig);
    }

    function test_setTerms_revert_canceled() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        vm.prank(owner);
        collector.cancel(SUB);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SubscriptionCanceled.selector, SUB));
        collector.setTerms(SUB, t, sig);
    }

    function testFuzz_setTerms_revert_expired(uint256 late) public {
        late = bound(late, 1, 365 days);
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        vm.warp(t.deadline + late);
        vm.expectRevert(abi.encodeWithSelector(ICollector.SignatureExpired.selector, t.deadline));
        collector.setTerms(SUB, t, sig);
    }

    /// @dev Identical terms again (a front-run copy landed first): a no-op, not a revert — even
    /// after their deadline, since nothing changes.
    function test_setTerms_success_identicalTermsReappliedIsNoop() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 1 days, 2);
        collector.setTerms(SUB, t, sig);
        vm.warp(block.timestamp + 2 hours);
        _collect(SUB, 1, 0, 1e6);
        ICollector.Subscription memory before = collector.getSubscription(SUB);
        vm.recordLogs();
        collector.setTerms(SUB, t, sig);
        assertEq(vm.getRecordedLogs().length, 0);
        ICollector.Subscription memory afterwards = collector.getSubscription(SUB);
        assertEq(afterwards.start, before.start);
        assertEq(afterwards.collectedInWindow, before.collectedInWindow);
        assertEq(afterwards.limit, 5e6);
        assertEq(afterwards.termsNonce, 2);
    }

    /// @dev Same nonce, other content: refused (the owner signed two different terms at one nonce).
    function test_setTerms_revert_sameNonceOtherContent() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        collector.setTerms(SUB, t, sig);
        (t, sig) = _signed(6e6, 30 days, 2);
        vm.expectRevert(abi.encodeWithSelector(ICollector.StaleTermsNonce.selector, 2, 2));
        collector.setTerms(SUB, t, sig);
    }

    /// @dev The terms' cap binds on top of the allowance: lowering it stops pulls at the new cap.
    function test_setTerms_success_capBindsBelowAllowance() public {
        _collect(SUB, 1, 0, 10e6);
        ICollector.Terms memory t = _termsCapped(15e6, 0, 30 days, 2);
        collector.setTerms(SUB, t, _sign(ownerKey, _termsDigest(SUB, t)));
        assertEq(collector.getSubscription(SUB).cap, 15e6);
        assertEq(collector.headroom(SUB), 5e6);
        _expectCollectRevert(SUB, 2, ICollector.FailureReason.Cap);
        _collect(SUB, 2, 0, 5e6 + 1);
        _collect(SUB, 2, 0, 5e6);
    }

    function test_setTerms_success_amountsAboveMaxAreHeldAsMax() public {
        ICollector.Terms memory t = _termsCapped(type(uint64).max, type(uint64).max, 30 days, 2);
        collector.setTerms(SUB, t, _sign(ownerKey, _termsDigest(SUB, t)));
        assertEq(collector.getSubscription(SUB).cap, MAX_AMOUNT);
        assertEq(collector.getSubscription(SUB).limit, MAX_AMOUNT);
    }

    function test_setTerms_revert_olderAfterNewer() public {
        (ICollector.Terms memory older, bytes memory olderSig) = _signed(50e6, 30 days, 2);
        (ICollector.Terms memory newer, bytes memory newerSig) = _signed(5e6, 30 days, 3);
        collector.setTerms(SUB, newer, newerSig);
        vm.expectRevert(abi.encodeWithSelector(ICollector.StaleTermsNonce.selector, 2, 3));
        collector.setTerms(SUB, older, olderSig);
    }

    function test_setTerms_revert_zeroNonce() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 0);
        vm.expectRevert(abi.encodeWithSelector(ICollector.StaleTermsNonce.selector, 0, 1));
        collector.setTerms(SUB, t, sig);
    }

    function testFuzz_setTerms_revert_nonceTooLarge(uint32 nonce) public {
        nonce = uint32(bound(nonce, uint32(type(uint24).max) + 1, type(uint32).max));
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, nonce);
        vm.expectRevert(abi.encodeWithSelector(ICollector.StaleTermsNonce.selector, nonce, 1));
        collector.setTerms(SUB, t, sig);
    }

    function testFuzz_setTerms_revert_invalidPeriod(uint32 period) public {
        vm.assume(period < collector.MIN_PERIOD() || period > collector.MAX_PERIOD());
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, period, 2);
        vm.expectRevert(abi.encodeWithSelector(ICollector.InvalidPeriod.selector, period));
        collector.setTerms(SUB, t, sig);
    }

    function testFuzz_setTerms_revert_wrongSigner(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ownerKey);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory sig = _sign(key, _termsDigest(SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    function testFuzz_setTerms_revert_tamperedTerms(uint64 limit) public {
        vm.assume(limit != 5e6);
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        t.limit = limit;
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    function test_setTerms_revert_otherSubscriptionsSignature() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory sig = _sign(ownerKey, _termsDigest(keccak256("other"), t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    function testFuzz_setTerms_revert_wrongChain(uint64 chainId) public {
        vm.assume(chainId != block.chainid && chainId != 0);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory sig = _sign(ownerKey, _termsDigestOn(chainId, address(collector), SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    /// @dev A signature made on this chain is refused after a fork changes the chain id.
    function test_setTerms_revert_afterChainIdChange() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        vm.chainId(block.chainid + 1);
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    function test_setTerms_revert_wrongVerifyingContract() public {
        address[] memory none = new address[](0);
        ICollector other = _deployCollector(address(usdc), payee, admin, none);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory sig = _sign(ownerKey, _termsDigestOn(block.chainid, address(other), SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    function test_setTerms_revert_highS() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, _highS(sig));
    }

    function test_setTerms_revert_badV() public {
        (ICollector.Terms memory t, bytes memory sig) = _signed(5e6, 30 days, 2);
        sig[64] = bytes1(uint8(sig[64]) - 27); // v in {0, 1}: USDC refuses it
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }

    function test_setTerms_revert_badLength() public {
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        (bytes32 r, bytes32 vs) = vm.signCompact(ownerKey, _termsDigest(SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, abi.encodePacked(r, vs)); // EIP-2098 short form: USDC refuses it
    }

    /// @dev The owner's account gains code that refuses every signature: its old key no longer counts.
    function test_setTerms_revert_erc1271Rejects() public {
        vm.etch(owner, address(new RejectingWallet()).code);
        ICollector.Terms memory t = _terms(5e6, 30 days, 2);
        bytes memory sig = _sign(ownerKey, _termsDigest(SUB, t));
        vm.expectRevert(ICollector.InvalidSignature.selector);
        collector.setTerms(SUB, t, sig);
    }
}
