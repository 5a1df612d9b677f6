// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";
import {ICollector} from "../../src/interfaces/ICollector.sol";
import {IFiatToken} from "../utils/IFiatToken.sol";

/// @notice Drives random sequences of authorize / re-authorize / terms / collect / batch / cancel /
/// time warp / pause against the collector and real USDC, and keeps ghost books rebuilt from the
/// `Collected` events alone. `rogue` acts as a leaked operator key: it replays any permit or terms
/// an owner ever signed, on any id, with or without terms, and retires seqs at random.
contract CollectorHandler is Test {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant TERMS_TYPEHASH = keccak256(
        "Terms(bytes32 subscription,uint64 cap,uint64 limit,uint32 period,uint32 nonce,uint256 deadline)"
    );
    uint256 internal constant OWNERS = 3;

    ICollector internal collector;
    IFiatToken internal usdc;
    address internal operator;
    address internal pauser;
    uint256[OWNERS] internal keys;

    bytes32[] public subs;
    uint256 internal subCounter;

    /// @dev Ghosts, all from the handler's own view of what the owner signed and the events emitted.
    mapping(bytes32 => uint256) public authorizedTotal;
    mapping(bytes32 => uint256) public pulled;
    mapping(address => uint256) public lastPermitValue;
    mapping(address => uint256) public pulledSincePermit;
    mapping(bytes32 => bool) public canceled;
    mapping(bytes32 => uint256) public pulledAtCancel;
    /// @dev The most the owner ever signed for the id: terms caps, and collected-plus-value of each
    /// permit applied to it (a permit is consent to its value more).
    mapping(bytes32 => uint256) public signedCap;
    /// @dev Ids the owner signed terms for.
    mapping(bytes32 => bool) public ownerTerms;
    /// @dev Every id the rogue operator tried.
    bytes32[] public rogueIds;
    /// @dev Everything the owners signed, for the rogue to replay.
    ICollector.Permit[] internal permitPool;
    bytes[] internal permitSigPool;
    address[] internal permitOwnerPool;
    ICollector.Terms[] internal termsPool;
    bytes[] internal termsSigPool;
    uint256 public rogueCalls;
    mapping(bytes32 => uint256) public collectedCount;
    mapping(bytes32 => mapping(uint256 => bool)) internal seqSeen;
    mapping(bytes32 => mapping(uint256 => bool)) internal seqRetired;
    mapping(bytes32 => uint256) public retiredCount;
    mapping(bytes32 => uint256) internal windowSum;
    uint256 public pulledSum;
    bool public doubleCollect;
    bool public limitBreached;
    bool public windowMismatch;
    bool public movedAfterCancel;
    uint256 public calls;

    constructor(
        ICollector collector_,
        IFiatToken usdc_,
        address operator_,
        address pauser_,
        uint256[OWNERS] memory keys_
    ) {
        collector = collector_;
        usdc = usdc_;
        operator = operator_;
        pauser = pauser_;
        keys = keys_;
    }

    function subCount() external view returns (uint256) {
        return subs.length;
    }

    function ownerAt(uint256 i) external view returns (address) {
        return vm.addr(keys[i]);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _typed(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", collector.DOMAIN_SEPARATOR(), structHash));
    }

    function _keyOf(address who) internal view returns (uint256) {
        for (uint256 i; i < OWNERS; ++i) {
            if (vm.addr(keys[i]) == who) return keys[i];
        }
        revert("unknown owner");
    }

    function _pick(uint256 seed) internal view returns (bytes32 id, bool ok) {
        if (subs.length == 0) return (bytes32(0), false);
        return (subs[seed % subs.length], true);
    }

    // ------------------------------------------------------------------ actions

    function _signPermit(uint256 key, uint256 value)
        internal
        returns (ICollector.Permit memory p, bytes memory sig)
    {
        address owner = vm.addr(key);
        p = ICollector.Permit({value: value, deadline: block.timestamp + 1 hours, nonce: usdc.nonces(owner)});
        sig = _sign(
            key,
            keccak256(
                abi.encodePacked(
                    "\x19\x01",
                    usdc.DOMAIN_SEPARATOR(),
                    keccak256(
                        abi.encode(PERMIT_TYPEHASH, owner, address(collector), value, p.nonce, p.deadline)
                    )
                )
            )
        );
        permitPool.push(p);
        permitSigPool.push(sig);
        permitOwnerPool.push(owner);
    }

    function _signTerms(uint256 key, bytes32 id, ICollector.Terms memory t)
        internal
        returns (bytes memory sig)
    {
        sig = _sign(
            key,
            _typed(keccak256(abi.encode(TERMS_TYPEHASH, id, t.cap, t.limit, t.period, t.nonce, t.deadline)))
        );
        if (t.cap > signedCap[id]) signedCap[id] = t.cap;
        ownerTerms[id] = true;
        termsPool.push(t);
        termsSigPool.push(sig);
    }

    /// @dev Opens a subscription (permit and terms) or tops up the owner's live one (permit alone).
    function authorize(uint256 ownerSeed, uint256 value) external {
        ++calls;
        uint256 key = keys[ownerSeed % OWNERS];
        address owner = vm.addr(key);
        value = bound(value, 0, 60e6);
        bytes32 live = collector.liveSubscriptionOf(owner);
        bytes32 id = live != bytes32(0) ? live : keccak256(abi.encode("sub", ++subCounter));
        (ICollector.Permit memory p, bytes memory sig) = _signPermit(key, value);
        bool ok;
        if (live != bytes32(0)) {
            vm.prank(operator);
            try collector.authorize(id, owner, p, sig, type(uint64).max) {
                ok = true;
            } catch {}
        } else {
            ICollector.Terms memory t = ICollector.Terms({
                cap: uint64(value), limit: 0, period: 30 days, nonce: 1, deadline: block.timestamp + 1 hours
            });
            bytes memory termsSig = _signTerms(key, id, t);
            vm.prank(operator);
            try collector.authorizeWithTerms(id, owner, p, sig, t, termsSig) {
                ok = true;
            } catch {}
        }
        if (ok) {
            if (live == bytes32(0)) subs.push(id);
            if (pulled[id] + value > signedCap[id]) signedCap[id] = pulled[id] + value;
            authorizedTotal[id] += value;
            lastPermitValue[owner] = value;
            pulledSincePermit[owner] = 0;
        }
    }

    /// @dev A leaked operator key: replays anything any owner signed, on any id (new, live, canceled),
    /// with or without terms, charges whatever, and retires seqs.
    function rogue(uint256 seed, uint64 amount, uint32 seq) external {
        ++calls;
        ++rogueCalls;
        uint256 action = seed % 5;
        bytes32 id = seed % 3 == 0 && subs.length > 0
            ? subs[(seed >> 8) % subs.length]
            : keccak256(abi.encode("rogue", seed % 4));
        rogueIds.push(id);
        vm.startPrank(operator);
        if (action <= 1 && permitPool.length > 0) {
            uint256 i = (seed >> 16) % permitPool.length;
            ICollector.Permit memory p = permitPool[i];
            address owner = permitOwnerPool[i];
            bool ok;
            if (action == 0) {
                try collector.authorize(id, owner, p, permitSigPool[i], type(uint64).max) {
                    ok = true;
                } catch {}
            } else if (termsPool.length > 0) {
                uint256 j = (seed >> 32) % termsPool.length;
                try collector.authorizeWithTerms(
                    id, owner, p, permitSigPool[i], termsPool[j], termsSigPool[j]
                ) {
                    ok = true;
                } catch {}
            }
            // The owner did sign the permit: consent to its value more, as far as it got applied.
            if (ok && pulled[id] + p.value > signedCap[id]) signedCap[id] = pulled[id] + p.value;
        } else if (action == 2) {
            vm.recordLogs();
            try collector.collect(
                ICollector.Charge({
                    subscription: id,
                    seq: seq % 2 == 0 ? collector.lastSeq(id) + 1 : seq,
                    window: collector.getSubscription(id).status == 0
                        ? 0
                        : collector.windowAt(id, block.timestamp),
                    amount: amount
                })
            ) {}
                catch {}
            _record(vm.getRecordedLogs());
        } else if (action == 3) {
            uint32 retire = seq % 2 == 0 ? collector.lastSeq(id) + 1 : seq;
            try collector.retireSeq(id, retire, "rogue") {
                seqRetired[id][retire] = true;
                ++retiredCount[id];
            } catch {}
        } else if (termsPool.length > 0) {
            uint256 j = (seed >> 32) % termsPool.length;
            try collector.setTerms(id, termsPool[j], termsSigPool[j]) {} catch {}
        }
        vm.stopPrank();
    }

    function rogueIdCount() external view returns (uint256) {
        return rogueIds.length;
    }

    function setTerms(uint256 subSeed, uint64 limit, uint32 period, bool samePeriod, bool staleNonce)
        external
    {
        ++calls;
        (bytes32 id, bool ok) = _pick(subSeed);
        if (!ok) return;
        ICollector.Subscription memory s = collector.getSubscription(id);
        limit = uint64(bound(limit, 0, 20e6));
        period = samePeriod ? s.period : uint32(bound(period, 1 hours, 60 days));
        ICollector.Terms memory t = ICollector.Terms({
            cap: uint64(bound(limit, 0, 80e6)),
            limit: limit,
            period: period,
            nonce: staleNonce ? uint32(s.termsNonce) : uint32(s.termsNonce) + 1,
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = _signTerms(_keyOf(s.owner), id, t);
        try collector.setTerms(id, t, sig) {} catch {}
    }

    function collect(uint256 subSeed, uint64 amount, bool previousWindow, uint8 seqSkew) external {
        ++calls;
        (bytes32 id, bool ok) = _pick(subSeed);
        if (!ok) return;
        ICollector.Charge memory c = _chargeFor(id, amount, previousWindow, seqSkew);
        vm.recordLogs();
        vm.prank(operator);
        try collector.collect(c) {} catch {}
        _record(vm.getRecordedLogs());
    }

    function collectBatch(uint256 seed, uint8 n, uint64 amount) external {
        ++calls;
        if (subs.length == 0) return;
        n = uint8(bound(n, 1, 8));
        ICollector.Charge[] memory charges = new ICollector.Charge[](n);
        for (uint256 i; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            // Same seq for repeats of a subscription in the batch: only the first may succeed.
            charges[i] =
                _chargeFor(subs[s % subs.length], uint64(uint256(amount) + i), s % 4 == 0, uint8(s % 7));
        }
        vm.recordLogs();
        vm.prank(operator);
        try collector.collectBatch{gas: 5_000_000}(charges) {} catch {}
        _record(vm.getRecordedLogs());
    }

    function cancel(uint256 subSeed, bool bySignature) external {
        ++calls;
        if (subSeed % 3 != 0) return; // cancels are rarer than charges
        (bytes32 id, bool ok) = _pick(subSeed / 3);
        if (!ok) return;
        address owner = collector.getSubscription(id).owner;
        bool done;
        if (bySignature) {
            (ICollector.Permit memory p, bytes memory sig) = _signPermit(_keyOf(owner), 0);
            try collector.cancelWithPermit(id, owner, p, sig) {
                done = true;
                lastPermitValue[owner] = 0;
                pulledSincePermit[owner] = 0;
            } catch {}
        } else {
            vm.prank(owner);
            try collector.cancel(id) {
                done = true;
            } catch {}
        }
        if (done) {
            canceled[id] = true;
            pulledAtCancel[id] = pulled[id];
        }
    }

    function warp(uint256 seconds_) external {
        ++calls;
        vm.warp(block.timestamp + bound(seconds_, 0, 45 days));
    }

    function togglePause(uint256 seed) external {
        ++calls;
        if (seed % 6 != 0) return; // mostly unpaused
        vm.startPrank(pauser);
        if (usdc.paused()) usdc.unpause();
        else usdc.pause();
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ books

    function _chargeFor(bytes32 id, uint64 amount, bool previousWindow, uint8 seqSkew)
        internal
        view
        returns (ICollector.Charge memory c)
    {
        ICollector.Subscription memory s = collector.getSubscription(id);
        uint32 current = collector.windowAt(id, block.timestamp);
        uint32 seq = s.lastSeq + 1;
        if (seqSkew == 1 && seq > 1) seq -= 1; // replay
        if (seqSkew == 2) seq += 1; // gap
        c = ICollector.Charge({
            subscription: id,
            seq: seq,
            window: previousWindow && current > 0 ? current - 1 : current,
            amount: uint64(bound(amount, 0, 15e6))
        });
    }

    /// @dev Rebuilds the books from `Collected` events only.
    function _record(Vm.Log[] memory logs) internal {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter != address(collector) || log.topics[0] != ICollector.Collected.selector) {
                continue;
            }
            bytes32 id = log.topics[1];
            uint256 packed = abi.decode(log.data, (uint256));
            uint32 seq = uint32(packed);
            uint32 window = uint32(packed >> 32);
            uint64 amount = uint64(packed >> 64);
            uint64 inWindow = uint64(packed >> 128);
            uint64 total = uint64(packed >> 192);
            ICollector.Subscription memory s = collector.getSubscription(id);

            if (seqSeen[id][seq] || seqRetired[id][seq]) doubleCollect = true;
            seqSeen[id][seq] = true;
            ++collectedCount[id];
            if (canceled[id]) movedAfterCancel = true;

            pulled[id] += amount;
            pulledSum += amount;
            pulledSincePermit[s.owner] += amount;
            if (total != pulled[id]) windowMismatch = true;

            bytes32 windowKey = keccak256(abi.encode(id, s.start, s.period, window));
            windowSum[windowKey] += amount;
            if (windowSum[windowKey] != inWindow) windowMismatch = true;
            if (s.limit != 0 && windowSum[windowKey] > s.limit) limitBreached = true;
        }
    }
}
