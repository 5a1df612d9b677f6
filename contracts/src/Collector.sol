// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICollector} from "./interfaces/ICollector.sol";
import {ISignatureValidator6492} from "./interfaces/ISignatureValidator6492.sol";
import {UsdcSignature} from "./libraries/UsdcSignature.sol";

/// @notice The parts of FiatToken v2.2 the collector uses.
interface IUsdc {
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external;
    function nonces(address owner) external view returns (uint256);
    function DOMAIN_SEPARATOR() external view returns (bytes32);
    function allowance(address owner, address spender) external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function paused() external view returns (bool);
    function isBlacklisted(address account) external view returns (bool);
}

/// @title Collector
/// @notice Pulls metered charges from paying wallets to a fixed payee within what each owner signed:
/// the owner's USDC allowance to this contract (an EIP-2612 permit) and owner-signed EIP-712 terms for
/// the subscription id (lifetime cap, per-window limit, window length) — a subscription opens only
/// with both. Every charge is collected at most once (`seq == last + 1`), and nothing moves after
/// cancel. Not upgradeable: the rules an owner signed against cannot change.
/// @dev Storage: two words per subscription, both packed by hand (see the bit layouts below) so a
/// collection costs one cold read of the config word and one read-modify-write of the state word.
/// The state word is made non-zero at authorization, so the first collection does not pay for a
/// zero-to-non-zero write.
contract Collector is ICollector {
    /// @inheritdoc ICollector
    address public immutable TOKEN;
    /// @inheritdoc ICollector
    address public immutable PAYEE;
    /// @dev The unprivileged ERC-6492 validator that makes counterfactual wallets' factory calls.
    ISignatureValidator6492 internal immutable _VALIDATOR;

    /// @inheritdoc ICollector
    uint32 public constant DEFAULT_PERIOD = 30 days;
    /// @inheritdoc ICollector
    uint32 public constant MIN_PERIOD = 1 hours;
    /// @inheritdoc ICollector
    uint32 public constant MAX_PERIOD = 366 days;
    /// @inheritdoc ICollector
    uint256 public constant MIN_GAS_PER_CHARGE = 100_000;

    /// @inheritdoc ICollector
    bytes32 public constant TERMS_TYPEHASH = keccak256(
        "Terms(bytes32 subscription,uint64 cap,uint64 limit,uint32 period,uint32 nonce,uint256 deadline)"
    );
    /// @inheritdoc ICollector
    uint64 public constant MAX_AMOUNT = uint64(MASK48);
    /// @dev EIP-2612, as USDC hashes it.
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("Tollgate Collector");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    bytes32 internal constant ERC6492_MAGIC =
        0x6492649264926492649264926492649264926492649264926492649264926492;

    uint256 internal constant STATUS_ACTIVE = 1;
    uint256 internal constant STATUS_CANCELED = 2;
    uint256 internal constant MASK24 = 0xffffff;
    uint256 internal constant MASK32 = 0xffffffff;
    uint256 internal constant MASK40 = 0xffffffffff;
    uint256 internal constant MASK48 = 0xffffffffffff;

    // Config word: owner (bits 0-159) | start uint40 (160-199) | period uint32 (200-231) | termsNonce uint24 (232-255)
    uint256 internal constant START_SHIFT = 160;
    uint256 internal constant PERIOD_SHIFT = 200;
    uint256 internal constant NONCE_SHIFT = 232;
    // State word: lastSeq uint32 (0-31) | lastWindow uint24 (32-55) | status uint8 (56-63)
    //           | collectedInWindow uint48 (64-111) | totalCollected uint48 (112-159) | limit uint48 (160-207)
    //           | cap uint48 (208-255). Amounts fit 48 bits because the cap does (MAX_AMOUNT) and
    //           collectedInWindow <= totalCollected <= cap.
    uint256 internal constant WINDOW_SHIFT = 32;
    uint256 internal constant STATUS_SHIFT = 56;
    uint256 internal constant SPENT_SHIFT = 64;
    uint256 internal constant TOTAL_SHIFT = 112;
    uint256 internal constant LIMIT_SHIFT = 160;
    uint256 internal constant CAP_SHIFT = 208;

    uint256 internal immutable CACHED_CHAIN_ID;
    bytes32 internal immutable CACHED_DOMAIN_SEPARATOR;

    address internal _admin;
    address internal _pendingAdmin;
    mapping(address account => bool allowed) internal _operators;
    mapping(bytes32 subscription => uint256 word) internal _config;
    mapping(bytes32 subscription => uint256 word) internal _state;
    mapping(address owner => bytes32 subscription) internal _live;
    /// @dev The owner's token nonce when their last subscription was canceled: a permit consumed
    /// before that cannot open a new subscription through the already-applied path.
    mapping(address owner => uint256 tokenNonce) internal _nonceAtCancel;
    /// @dev The struct hash of the terms in force, to recognise an identical re-application.
    mapping(bytes32 subscription => bytes32 structHash) internal _termsHash;
    bool internal transient _entered;

    /// @param token The USDC proxy.
    /// @param payee Receives every collection.
    /// @param validator The ERC-6492 validator.
    /// @param admin_ Manages operators.
    /// @param operators Initial operators.
    constructor(
        address token,
        address payee,
        ISignatureValidator6492 validator,
        address admin_,
        address[] memory operators
    ) {
        if (
            token == address(0) || payee == address(0) || address(validator) == address(0)
                || admin_ == address(0)
        ) {
            revert ZeroValue();
        }
        TOKEN = token;
        PAYEE = payee;
        _VALIDATOR = validator;
        _admin = admin_;
        emit AdminTransferred(address(0), admin_);
        for (uint256 i; i < operators.length; ++i) {
            _operators[operators[i]] = true;
            emit OperatorSet(operators[i], true);
        }
        CACHED_CHAIN_ID = block.chainid;
        CACHED_DOMAIN_SEPARATOR = _buildDomainSeparator();
    }

    modifier onlyOperator() {
        if (!_operators[msg.sender]) revert NotOperator(msg.sender);
        _;
    }

    modifier onlyAdmin() {
        if (msg.sender != _admin) revert NotAdmin(msg.sender);
        _;
    }

    /// @dev Guards the entry points that may call out through the 6492 validator (a state-changing call).
    modifier nonReentrant() {
        if (_entered) revert Reentrancy();
        _entered = true;
        _;
        _entered = false;
    }

    // ------------------------------------------------------------------ authorization

    /// @inheritdoc ICollector
    function authorize(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata signature,
        uint64 maxCap
    ) external onlyOperator nonReentrant {
        _authorize(subscription, owner, permit, signature, false, maxCap);
    }

    /// @inheritdoc ICollector
    function authorizeWithTerms(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata permitSignature,
        Terms calldata terms,
        bytes calldata termsSignature
    ) external onlyOperator nonReentrant {
        _authorize(subscription, owner, permit, permitSignature, true, type(uint64).max);
        _setTerms(subscription, terms, termsSignature);
    }

    /// @inheritdoc ICollector
    function setTerms(bytes32 subscription, Terms calldata terms, bytes calldata signature)
        external
        nonReentrant
    {
        _setTerms(subscription, terms, signature);
    }

    /// @dev Applies the permit and sets the cap to what is collected plus the permit's value, or
    /// `maxCap` if lower. Creates the subscription only when `withTerms` (the caller applies the
    /// owner's terms right after, in the same call, or everything reverts).
    function _authorize(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata signature,
        bool withTerms,
        uint64 maxCap
    ) internal {
        if (subscription == bytes32(0) || owner == address(0)) revert ZeroValue();
        uint256 config = _config[subscription];
        bool created = config == 0;
        if (created) {
            if (!withTerms) revert TermsRequired(subscription);
            bytes32 live = _live[owner];
            if (live != bytes32(0)) revert OwnerHasLiveSubscription(owner, live);
        } else {
            if (address(uint160(config)) != owner) {
                revert OwnerMismatch(subscription, address(uint160(config)));
            }
            if ((_state[subscription] >> STATUS_SHIFT) & 0xff == STATUS_CANCELED) {
                revert SubscriptionCanceled(subscription);
            }
        }
        _submitPermit(owner, permit, signature, created);
        uint256 state;
        if (created) {
            config = uint256(uint160(owner)) | (block.timestamp << START_SHIFT)
                | (uint256(DEFAULT_PERIOD) << PERIOD_SHIFT);
            _config[subscription] = config;
            state = STATUS_ACTIVE << STATUS_SHIFT;
            _live[owner] = subscription;
        } else {
            state = _state[subscription];
        }
        // The permit is the owner's consent to `value` more from now on: what is collected plus that,
        // less whatever a pull racing the permit took that the owner's new cap already counted.
        uint256 cap = _clamp(((state >> TOTAL_SHIFT) & MASK48) + _clamp(permit.value));
        if (maxCap < cap) cap = maxCap;
        _state[subscription] = (state & ~(MASK48 << CAP_SHIFT)) | (cap << CAP_SHIFT);
        emit Authorized(
            subscription,
            owner,
            permit.value,
            created,
            uint40(config >> START_SHIFT),
            uint32(config >> PERIOD_SHIFT),
            uint64(cap)
        );
    }

    function _clamp(uint256 amount) internal pure returns (uint256) {
        return amount > MASK48 ? MASK48 : amount;
    }

    /// @dev Applies the permit through the token. Anyone may submit a signed permit first, so a
    /// refusal counts as success when the owner's signature verifies for the nonce it names, that
    /// nonce is consumed, and the allowance is exactly the permit's value. USDC takes no ERC-6492
    /// signatures, so a wrapped one is unwrapped here and the counterfactual wallet deployed by the
    /// validator first (never by this contract); the token then checks the inner signature.
    function _submitPermit(address owner, Permit calldata permit, bytes calldata wrapped, bool creating)
        internal
    {
        IUsdc token = IUsdc(TOKEN);
        bytes memory signature = wrapped;
        if (_is6492(wrapped)) {
            (,, signature) = abi.decode(wrapped[:wrapped.length - 32], (address, bytes, bytes));
            if (owner.code.length == 0) {
                try _VALIDATOR.isValidSig(owner, _permitDigest(token, owner, permit), wrapped) {} catch {}
            }
        }
        try token.permit(owner, address(this), permit.value, permit.deadline, signature) {
            return;
        } catch {}
        if (permit.nonce < token.nonces(owner)) {
            // A permit already consumed before the owner's last cancel is no consent to a new subscription.
            if (creating && permit.nonce < _nonceAtCancel[owner]) {
                revert PermitNonceUsed(owner, permit.nonce);
            }
            if (UsdcSignature.isValidNow(owner, _permitDigest(token, owner, permit), signature)) {
                if (token.allowance(owner, address(this)) == permit.value) return;
                revert PermitNonceUsed(owner, permit.nonce);
            }
            revert PermitRejected(owner);
        }
        if (permit.deadline < block.timestamp) revert PermitExpired(permit.deadline);
        revert PermitRejected(owner);
    }

    function _permitDigest(IUsdc token, address owner, Permit calldata permit)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked(
                "\x19\x01",
                token.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        PERMIT_TYPEHASH, owner, address(this), permit.value, permit.nonce, permit.deadline
                    )
                )
            )
        );
    }

    function _setTerms(bytes32 subscription, Terms calldata terms, bytes calldata signature) internal {
        uint256 state = _requireActive(subscription);
        uint256 config = _config[subscription];
        uint24 current = uint24(config >> NONCE_SHIFT);
        bytes32 structHash = keccak256(
            abi.encode(
                TERMS_TYPEHASH,
                subscription,
                terms.cap,
                terms.limit,
                terms.period,
                terms.nonce,
                terms.deadline
            )
        );
        // Exactly the terms in force (verified when they were applied): nothing to do, so a copy
        // someone submitted first cannot make the owner's own submission fail.
        if (terms.nonce == current && current != 0 && structHash == _termsHash[subscription]) return;
        if (block.timestamp > terms.deadline) revert SignatureExpired(terms.deadline);
        if (terms.nonce <= current || terms.nonce > MASK24) revert StaleTermsNonce(terms.nonce, current);
        if (terms.period < MIN_PERIOD || terms.period > MAX_PERIOD) revert InvalidPeriod(terms.period);
        address owner = address(uint160(config));
        if (!_isValidSignature(owner, _hashTypedData(structHash), signature)) revert InvalidSignature();
        _termsHash[subscription] = structHash;

        uint256 start = (config >> START_SHIFT) & MASK40;
        if (terms.period != (config >> PERIOD_SHIFT) & MASK32) {
            // A new window length restarts the windows now: window 0, nothing collected in it.
            start = block.timestamp;
            state &= ~((MASK24 << WINDOW_SHIFT) | (MASK48 << SPENT_SHIFT));
        }
        uint256 limit = _clamp(terms.limit);
        uint256 cap = _clamp(terms.cap);
        _config[subscription] = uint256(uint160(owner)) | (start << START_SHIFT)
            | (uint256(terms.period) << PERIOD_SHIFT) | (uint256(terms.nonce) << NONCE_SHIFT);
        _state[subscription] =
            (state & ~(type(uint256).max << LIMIT_SHIFT)) | (limit << LIMIT_SHIFT) | (cap << CAP_SHIFT);
        emit TermsSet(subscription, uint64(limit), terms.period, terms.nonce, uint40(start), uint64(cap));
    }

    // ------------------------------------------------------------------ collection

    /// @inheritdoc ICollector
    function collect(Charge calldata charge) external onlyOperator {
        FailureReason reason = _collect(charge.subscription, charge.seq, charge.window, charge.amount);
        if (reason != FailureReason.None) revert CollectReverted(charge.subscription, charge.seq, reason);
    }

    /// @inheritdoc ICollector
    function collectBatch(Charge[] calldata charges) external onlyOperator returns (uint256 collected) {
        uint256 n = charges.length;
        for (uint256 i; i < n; ++i) {
            if (gasleft() < MIN_GAS_PER_CHARGE) revert InsufficientGas(i, gasleft());
            Charge calldata charge = charges[i];
            FailureReason reason = _collect(charge.subscription, charge.seq, charge.window, charge.amount);
            if (reason == FailureReason.None) {
                ++collected;
            } else {
                emit ChargeFailed(charge.subscription, charge.seq, charge.window, charge.amount, reason);
            }
        }
    }

    /// @dev Checks one charge against the owner's limits, pulls it, and only then records it.
    function _collect(bytes32 subscription, uint256 seq, uint256 window, uint256 amount)
        internal
        returns (FailureReason)
    {
        uint256 state = _state[subscription];
        {
            uint256 status = (state >> STATUS_SHIFT) & 0xff;
            if (status != STATUS_ACTIVE) {
                return status == 0 ? FailureReason.UnknownSubscription : FailureReason.Canceled;
            }
            uint256 last = state & MASK32;
            if (seq != last + 1) return seq <= last ? FailureReason.SeqUsed : FailureReason.SeqGap;
        }
        if (amount == 0) return FailureReason.Amount;

        uint256 config = _config[subscription];
        uint256 spent;
        {
            uint256 current;
            unchecked {
                // start <= block.timestamp always; period >= MIN_PERIOD, so the window fits 24 bits
                // for any timestamp below 2^32.
                current = (block.timestamp - ((config >> START_SHIFT) & MASK40))
                    / ((config >> PERIOD_SHIFT) & MASK32);
            }
            uint256 lastWindow = (state >> WINDOW_SHIFT) & MASK24;
            if (window > current || window + 1 < current || window < lastWindow || window > MASK24) {
                return FailureReason.Window;
            }
            spent = window == lastWindow ? ((state >> SPENT_SHIFT) & MASK48) + amount : amount;
        }
        {
            uint256 limit = (state >> LIMIT_SHIFT) & MASK48;
            if (limit != 0 && spent > limit) return FailureReason.Limit;
        }
        // The cap is at most MASK48, so this also keeps the total (and spent <= total) within 48 bits.
        uint256 total = ((state >> TOTAL_SHIFT) & MASK48) + amount;
        if (total > state >> CAP_SHIFT) return FailureReason.Cap;

        FailureReason pulled = _pull(address(uint160(config)), amount);
        if (pulled != FailureReason.None) return pulled;

        _state[subscription] = seq | (window << WINDOW_SHIFT) | (STATUS_ACTIVE << STATUS_SHIFT)
            | (spent << SPENT_SHIFT) | (total << TOTAL_SHIFT) | ((state >> LIMIT_SHIFT) << LIMIT_SHIFT);
        emit Collected(subscription, seq | window << 32 | amount << 64 | spent << 128 | total << 192);
        return FailureReason.None;
    }

    /// @dev `TOKEN.transferFrom(owner, PAYEE, amount)`, straight to the payee. On a refusal, the
    /// reason is read from the token's state rather than its revert string, so it stays right for
    /// any message wording. A call that ran out of gas reverts everything instead.
    function _pull(address owner, uint256 amount) internal returns (FailureReason) {
        address token = TOKEN;
        address payee = PAYEE;
        uint256 gasBefore = gasleft();
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x23b872dd00000000000000000000000000000000000000000000000000000000)
            mstore(add(m, 0x04), owner)
            mstore(add(m, 0x24), payee)
            mstore(add(m, 0x44), amount)
            ok := call(gas(), token, 0, m, 0x64, 0x00, 0x20)
            ok := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)))
        }
        if (ok) return FailureReason.None;
        if (gasleft() < gasBefore / 63) revert InsufficientGas(0, gasleft());
        return _classify(owner, amount);
    }

    /// @dev Why the token refused a pull, from its state.
    function _classify(address owner, uint256 amount) internal view returns (FailureReason) {
        IUsdc token = IUsdc(TOKEN);
        try token.paused() returns (bool paused) {
            if (paused) return FailureReason.Paused;
        } catch {}
        try token.isBlacklisted(owner) returns (bool listed) {
            if (listed) return FailureReason.Blacklisted;
        } catch {}
        try token.isBlacklisted(PAYEE) returns (bool listed) {
            if (listed) return FailureReason.Blacklisted;
        } catch {}
        try token.allowance(owner, address(this)) returns (uint256 allowance) {
            if (allowance < amount) return FailureReason.Allowance;
        } catch {}
        try token.balanceOf(owner) returns (uint256 balance) {
            if (balance < amount) return FailureReason.Balance;
        } catch {}
        return FailureReason.TokenReverted;
    }

    // ------------------------------------------------------------------ cancel

    /// @inheritdoc ICollector
    function cancel(bytes32 subscription) external {
        _requireActive(subscription);
        address owner = address(uint160(_config[subscription]));
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        _cancel(subscription, owner, false);
    }

    /// @inheritdoc ICollector
    function cancelWithPermit(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata signature
    ) external nonReentrant {
        if (subscription == bytes32(0) || owner == address(0)) revert ZeroValue();
        if (permit.value != 0) revert PermitNotZero(permit.value);
        uint256 config = _config[subscription];
        if (config != 0) {
            _requireActive(subscription);
            if (address(uint160(config)) != owner) {
                revert OwnerMismatch(subscription, address(uint160(config)));
            }
            _submitPermit(owner, permit, signature, false);
            _cancel(subscription, owner, true);
            return;
        }
        // Never opened: a tombstone, so no signature held anywhere can open this id later.
        bytes32 live = _live[owner];
        if (live != bytes32(0)) revert OwnerHasLiveSubscription(owner, live);
        IUsdc token = IUsdc(TOKEN);
        if (owner.code.length == 0 && _is6492(signature)) {
            // Deploying the wallet only to cancel would cost for nothing: checked, not submitted.
            if (
                permit.deadline < block.timestamp || permit.nonce != token.nonces(owner)
                    || !_VALIDATOR.isValidSigNoSideEffects(
                        owner, _permitDigest(token, owner, permit), signature
                    )
            ) revert InvalidSignature();
        } else {
            _submitPermit(owner, permit, signature, false);
        }
        _config[subscription] = uint256(uint160(owner)) | (block.timestamp << START_SHIFT)
            | (uint256(DEFAULT_PERIOD) << PERIOD_SHIFT);
        _state[subscription] = STATUS_CANCELED << STATUS_SHIFT;
        _nonceAtCancel[owner] = token.nonces(owner);
        emit Canceled(subscription, owner, true);
    }

    /// @inheritdoc ICollector
    function retireSeq(bytes32 subscription, uint32 seq, string calldata reason) external onlyOperator {
        uint256 state = _requireActive(subscription);
        uint32 last = uint32(state);
        if (seq != uint256(last) + 1) revert SeqNotNext(seq, last);
        _state[subscription] = (state & ~MASK32) | seq;
        emit SeqRetired(subscription, seq, reason);
    }

    function _cancel(bytes32 subscription, address owner, bool bySignature) internal {
        uint256 state = _state[subscription];
        _state[subscription] = (state & ~(uint256(0xff) << STATUS_SHIFT)) | (STATUS_CANCELED << STATUS_SHIFT);
        if (_live[owner] == subscription) delete _live[owner];
        _nonceAtCancel[owner] = IUsdc(TOKEN).nonces(owner);
        emit Canceled(subscription, owner, bySignature);
    }

    function _requireActive(bytes32 subscription) internal view returns (uint256 state) {
        state = _state[subscription];
        uint256 status = (state >> STATUS_SHIFT) & 0xff;
        if (status == 0) revert UnknownSubscription(subscription);
        if (status != STATUS_ACTIVE) revert SubscriptionCanceled(subscription);
    }

    // ------------------------------------------------------------------ signatures

    /// @dev USDC's rules (ECDSA without code, ERC-1271 with code); ERC-6492 wrappers go to the validator.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature)
        internal
        returns (bool)
    {
        if (_is6492(signature)) {
            try _VALIDATOR.isValidSig(signer, digest, signature) returns (bool valid) {
                return valid;
            } catch {
                return false;
            }
        }
        return UsdcSignature.isValidNow(signer, digest, signature);
    }

    function _is6492(bytes calldata signature) internal pure returns (bool) {
        uint256 length = signature.length;
        return length >= 32 && bytes32(signature[length - 32:]) == ERC6492_MAGIC;
    }

    function _hashTypedData(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
    }

    function _buildDomainSeparator() internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @inheritdoc ICollector
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return block.chainid == CACHED_CHAIN_ID ? CACHED_DOMAIN_SEPARATOR : _buildDomainSeparator();
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ICollector
    function setOperator(address operator, bool allowed) external onlyAdmin {
        if (operator == address(0)) revert ZeroValue();
        _operators[operator] = allowed;
        emit OperatorSet(operator, allowed);
    }

    /// @inheritdoc ICollector
    function transferAdmin(address pendingAdmin) external onlyAdmin {
        _pendingAdmin = pendingAdmin;
        emit AdminTransferStarted(_admin, pendingAdmin);
    }

    /// @inheritdoc ICollector
    function acceptAdmin() external {
        if (msg.sender != _pendingAdmin || msg.sender == address(0)) revert NotAdmin(msg.sender);
        emit AdminTransferred(_admin, msg.sender);
        _admin = msg.sender;
        delete _pendingAdmin;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICollector
    function getSubscription(bytes32 subscription) public view returns (Subscription memory s) {
        uint256 config = _config[subscription];
        uint256 state = _state[subscription];
        s.owner = address(uint160(config));
        s.start = uint40(config >> START_SHIFT);
        s.period = uint32(config >> PERIOD_SHIFT);
        s.termsNonce = uint24(config >> NONCE_SHIFT);
        s.lastSeq = uint32(state);
        s.lastWindow = uint24(state >> WINDOW_SHIFT);
        s.status = uint8(state >> STATUS_SHIFT);
        s.collectedInWindow = uint64((state >> SPENT_SHIFT) & MASK48);
        s.totalCollected = uint64((state >> TOTAL_SHIFT) & MASK48);
        s.limit = uint64((state >> LIMIT_SHIFT) & MASK48);
        s.cap = uint64(state >> CAP_SHIFT);
    }

    /// @inheritdoc ICollector
    function lastSeq(bytes32 subscription) external view returns (uint32) {
        return uint32(_state[subscription]);
    }

    /// @inheritdoc ICollector
    function windowAt(bytes32 subscription, uint256 timestamp) public view returns (uint32) {
        uint256 config = _config[subscription];
        if (config == 0) revert UnknownSubscription(subscription);
        uint256 start = (config >> START_SHIFT) & MASK40;
        if (timestamp <= start) return 0;
        return uint32((timestamp - start) / ((config >> PERIOD_SHIFT) & MASK32));
    }

    /// @inheritdoc ICollector
    function collectedInWindow(bytes32 subscription, uint32 window) public view returns (uint64) {
        uint256 state = _state[subscription];
        if (state == 0) revert UnknownSubscription(subscription);
        uint24 lastWindow = uint24(state >> WINDOW_SHIFT);
        if (window < lastWindow) revert WindowNotTracked(window, lastWindow);
        return window == lastWindow ? uint64((state >> SPENT_SHIFT) & MASK48) : 0;
    }

    /// @inheritdoc ICollector
    function remainingAllowance(bytes32 subscription) public view returns (uint256) {
        uint256 config = _config[subscription];
        if (config == 0) revert UnknownSubscription(subscription);
        return IUsdc(TOKEN).allowance(address(uint160(config)), address(this));
    }

    /// @inheritdoc ICollector
    function headroom(bytes32 subscription) external view returns (uint256) {
        uint256 allowance = remainingAllowance(subscription);
        uint256 state = _state[subscription];
        if ((state >> STATUS_SHIFT) & 0xff != STATUS_ACTIVE) return 0;
        uint256 total = (state >> TOTAL_SHIFT) & MASK48;
        uint256 cap = state >> CAP_SHIFT;
        uint256 left = cap > total ? cap - total : 0;
        uint256 limit = (state >> LIMIT_SHIFT) & MASK48;
        if (limit != 0) {
            uint256 spent = collectedInWindow(subscription, windowAt(subscription, block.timestamp));
            uint256 inWindow = limit > spent ? limit - spent : 0;
            if (inWindow < left) left = inWindow;
        }
        return left < allowance ? left : allowance;
    }

    /// @inheritdoc ICollector
    function liveSubscriptionOf(address owner) external view returns (bytes32) {
        return _live[owner];
    }

    /// @inheritdoc ICollector
    function isOperator(address account) external view returns (bool) {
        return _operators[account];
    }

    /// @inheritdoc ICollector
    function admin() external view returns (address) {
        return _admin;
    }

    /// @inheritdoc ICollector
    function VALIDATOR() external view returns (address) {
        return address(_VALIDATOR);
    }
}
