// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ICollector
/// @notice The spender of owners' USDC permits: pulls metered charges from each paying wallet to one
/// fixed payee, within what the owner signed. A subscription opens only with two owner signatures:
/// an EIP-2612 permit granting this contract an allowance, and EIP-712 terms for that very id
/// carrying the lifetime cap, the optional per-window limit and the window length. Every charge is
/// checked against both the allowance (by the token) and the cap and limit (here), so a leaked
/// operator key cannot take more than the owner signed, whatever it submits. A later permit alone
/// tops up a live subscription (its cap becomes what is collected plus the permit's value).
///
/// Subscriptions are keyed by a `bytes32` id chosen off-chain (the app uses 128 random bits). A
/// paying wallet has at most one live subscription (a permit sets the allowance, it does not add to
/// it, so two live subscriptions would share one cap).
///
/// Windows: fixed windows of `period` seconds starting at the authorization
/// (`window = (timestamp - start) / period`). Each charge names its window; only the current and the
/// previous window are accepted, and windows never go backwards along a subscription's sequence (a
/// charge for the previous window is refused once the current one has been charged). New terms
/// with a different period restart the windows at the time they are applied.
///
/// Charges carry `seq`, which must be exactly the last collected `seq + 1`. A failed charge changes
/// nothing and does not consume its number, so a retry (or a replacement transaction) carries the
/// same items, and a charge can never be collected twice.
///
/// Cancel is one owner signature: a zero-value permit for this contract, which the contract submits
/// to the token, so the allowance is 0 and every older unsubmitted permit of the owner (same token
/// nonce) is void. A subscription id that was never opened can be canceled too (a tombstone), so a
/// signature held off-chain can never open it later.
///
/// Signatures (terms, and a cancel's permit) are verified as USDC verifies permits: ECDSA with low-s and v in
/// {27, 28} when the signer has no code, ERC-1271 when it has code (EIP-7702 accounts included).
/// ERC-6492-wrapped signatures are handed to a separate, unprivileged validator contract, which
/// makes the factory call; this contract never calls an owner-chosen factory itself.
interface ICollector {
    /// @notice Why a charge was not collected. Emitted in `ChargeFailed` (batch) and carried by the
    /// `CollectReverted` error (single `collect`).
    enum FailureReason {
        /// @dev Unused (zero value).
        None,
        /// @dev No subscription has this id.
        UnknownSubscription,
        /// @dev The subscription is canceled.
        Canceled,
        /// @dev `seq` was already collected (`seq <= lastSeq`): a replay or a mined original.
        SeqUsed,
        /// @dev `seq` skips numbers (`seq > lastSeq + 1`).
        SeqGap,
        /// @dev The window is neither the current nor the previous one, or is before the last charged window.
        Window,
        /// @dev The charge would exceed the per-window limit the owner signed.
        Limit,
        /// @dev The amount is zero.
        Amount,
        /// @dev The token is paused.
        Paused,
        /// @dev The payer (or the payee) is blacklisted by the token.
        Blacklisted,
        /// @dev The owner's allowance to this contract does not cover the amount.
        Allowance,
        /// @dev The owner's balance does not cover the amount.
        Balance,
        /// @dev The token reverted for another reason.
        TokenReverted,
        /// @dev The charge would take the subscription's total past the lifetime cap the owner signed.
        Cap
    }

    /// @notice A charge to collect.
    struct Charge {
        /// @dev The subscription id.
        bytes32 subscription;
        /// @dev Must be the subscription's last collected seq + 1.
        uint32 seq;
        /// @dev The window this charge belongs to: the current or the previous one.
        uint32 window;
        /// @dev Amount in token base units (USDC: 6 decimals).
        uint64 amount;
    }

    /// @notice An owner's EIP-2612 permit for this contract as spender, submitted by an operator.
    struct Permit {
        /// @dev The allowance the permit sets (the owner's new cap minus what is collected or booked).
        uint256 value;
        /// @dev The permit's deadline (unix seconds, or type(uint256).max).
        uint256 deadline;
        /// @dev The token nonce the owner signed over; read only when the token refuses the permit,
        /// to recognise a permit someone else already submitted.
        uint256 nonce;
    }

    /// @notice Owner-signed terms. EIP-712 type:
    /// `Terms(bytes32 subscription,uint64 cap,uint64 limit,uint32 period,uint32 nonce,uint256 deadline)`.
    /// Amounts above `MAX_AMOUNT` are held as `MAX_AMOUNT`.
    struct Terms {
        /// @dev Most that may ever be collected for the subscription (its lifetime total).
        uint64 cap;
        /// @dev Most that may be collected per window; 0 means no limit.
        uint64 limit;
        /// @dev Window length in seconds, within [MIN_PERIOD, MAX_PERIOD].
        uint32 period;
        /// @dev Must exceed the subscription's current terms nonce (a newer signature voids older ones); < 2^24.
        uint32 nonce;
        /// @dev Last second at which the signature may be applied.
        uint256 deadline;
    }

    /// @notice A subscription's full state, as the views return it.
    struct Subscription {
        /// @dev The paying wallet.
        address owner;
        /// @dev Start of window 0 (unix seconds): the authorization, or the last change of period.
        uint40 start;
        /// @dev Window length in seconds.
        uint32 period;
        /// @dev Nonce of the terms in force (0: none applied).
        uint24 termsNonce;
        /// @dev The last collected sequence number (0: none yet).
        uint32 lastSeq;
        /// @dev The window of the last collection (0 before any).
        uint24 lastWindow;
        /// @dev 0 unknown, 1 active, 2 canceled.
        uint8 status;
        /// @dev Collected in `lastWindow`.
        uint64 collectedInWindow;
        /// @dev Collected over the subscription's life.
        uint64 totalCollected;
        /// @dev Per-window limit (0: none).
        uint64 limit;
        /// @dev Lifetime cap: `totalCollected` never exceeds it.
        uint64 cap;
    }

    /// @notice A permit was applied (or found already applied) for a subscription.
    /// @param subscription The subscription id.
    /// @param owner The paying wallet.
    /// @param allowance The allowance the permit set.
    /// @param created True when this authorization created the subscription.
    /// @param start Start of window 0.
    /// @param period Window length in seconds.
    /// @param cap The lifetime cap after this permit: collected so far plus the permit's value
    /// (terms applied in the same call then set their own).
    event Authorized(
        bytes32 indexed subscription,
        address indexed owner,
        uint256 allowance,
        bool created,
        uint40 start,
        uint32 period,
        uint64 cap
    );

    /// @notice New owner-signed terms are in force.
    /// @param subscription The subscription id.
    /// @param limit Per-window limit (0: none).
    /// @param period Window length in seconds.
    /// @param nonce The terms nonce.
    /// @param start Start of window 0 (moves to now when the period changed).
    /// @param cap The lifetime cap.
    event TermsSet(
        bytes32 indexed subscription, uint64 limit, uint32 period, uint32 nonce, uint40 start, uint64 cap
    );

    /// @notice An operator retired a sequence number that can never be collected: it is used up
    /// (never collectable), and the next charge carries `seq + 1`.
    /// @param subscription The subscription id.
    /// @param seq The retired sequence number.
    /// @param reason Why, in the operator's words (kept only in this event).
    event SeqRetired(bytes32 indexed subscription, uint32 seq, string reason);

    /// @notice A charge was collected.
    /// @param subscription The subscription id.
    /// @param packed seq | window << 32 | amount << 64 | collectedInWindow << 128 | totalCollected << 192.
    event Collected(bytes32 indexed subscription, uint256 packed);

    /// @notice A charge in a batch was not collected; nothing changed for it and its seq is still free.
    /// @param subscription The subscription id.
    /// @param seq The charge's sequence number.
    /// @param window The window it named.
    /// @param amount The amount asked.
    /// @param reason Why.
    event ChargeFailed(
        bytes32 indexed subscription, uint32 seq, uint32 window, uint64 amount, FailureReason reason
    );

    /// @notice The subscription is canceled; nothing moves for it any more.
    /// @param subscription The subscription id.
    /// @param owner The paying wallet.
    /// @param bySignature True when canceled with the owner's signature, false by the owner's own transaction.
    event Canceled(bytes32 indexed subscription, address indexed owner, bool bySignature);

    /// @notice An operator was added or removed.
    event OperatorSet(address indexed operator, bool allowed);

    /// @notice An admin transfer was started.
    event AdminTransferStarted(address indexed admin, address indexed pendingAdmin);

    /// @notice The admin changed.
    event AdminTransferred(address indexed previousAdmin, address indexed admin);

    /// @notice The caller is not an operator.
    error NotOperator(address caller);
    /// @notice The caller is not the admin (or the pending admin, for `acceptAdmin`).
    error NotAdmin(address caller);
    /// @notice The caller is not the subscription's owner.
    error NotOwner(address caller, address owner);
    /// @notice A zero address or zero id where one is required.
    error ZeroValue();
    /// @notice No subscription has this id.
    error UnknownSubscription(bytes32 subscription);
    /// @notice The subscription is canceled.
    error SubscriptionCanceled(bytes32 subscription);
    /// @notice The owner already has a live subscription.
    error OwnerHasLiveSubscription(address owner, bytes32 live);
    /// @notice The subscription belongs to another owner.
    error OwnerMismatch(bytes32 subscription, address owner);
    /// @notice The token refused the permit, and it was not already applied: `nonce` was consumed
    /// by another permit (another app's, or an older one of the owner's) — the owner must sign anew.
    error PermitNonceUsed(address owner, uint256 nonce);
    /// @notice The token refused the permit: its deadline passed before it was submitted.
    error PermitExpired(uint256 deadline);
    /// @notice The token refused the permit for another reason (bad signature, wrong value, paused token).
    error PermitRejected(address owner);
    /// @notice The signature is past its deadline.
    error SignatureExpired(uint256 deadline);
    /// @notice The signature does not verify for the subscription's owner.
    error InvalidSignature();
    /// @notice The terms nonce is not above the current one (older terms after newer), or too large.
    error StaleTermsNonce(uint32 nonce, uint24 current);
    /// @notice The period is outside [MIN_PERIOD, MAX_PERIOD].
    error InvalidPeriod(uint32 period);
    /// @notice Not enough gas left to process the next batch item safely; the whole call reverts.
    error InsufficientGas(uint256 index, uint256 gasLeft);
    /// @notice A single `collect` failed.
    error CollectReverted(bytes32 subscription, uint32 seq, FailureReason reason);
    /// @notice A signature-checking call re-entered this contract.
    error Reentrancy();
    /// @notice The window is before the last charged one; its total is only in the `Collected` events.
    error WindowNotTracked(uint32 window, uint24 lastWindow);
    /// @notice A subscription is opened only with owner-signed terms for its id (`authorizeWithTerms`).
    error TermsRequired(bytes32 subscription);
    /// @notice A cancel's permit must set the allowance to 0.
    error PermitNotZero(uint256 value);
    /// @notice Only the next sequence number (`lastSeq + 1`) can be retired.
    error SeqNotNext(uint32 seq, uint32 lastSeq);

    /// @notice Tops up or re-authorizes a live subscription with the owner's permit alone (same id,
    /// same owner): the allowance becomes `permit.value` and the lifetime cap `totalCollected +
    /// permit.value`, or `maxCap` if lower — the operator names the cap the owner chose, so a pull
    /// that lands while the permit is in flight cannot take the owner past it (it can only lower
    /// the cap, never raise it). It never creates a subscription (`TermsRequired`): that takes terms too. A
    /// permit that the token refuses because someone already submitted it counts as success when its
    /// signature verifies for `permit.nonce`, that nonce is consumed and the allowance equals
    /// `permit.value`. An ERC-6492-wrapped signature of a counterfactual owner is unwrapped: the
    /// validator deploys the wallet, the token checks the inner signature with ERC-1271. Operators only.
    /// @param subscription The owner's live subscription id.
    /// @param owner The paying wallet.
    /// @param permit Value, deadline and the token nonce signed over.
    /// @param signature The permit signature (65-byte r,s,v for EOAs; ERC-1271 bytes for deployed wallets).
    /// @param maxCap The owner's new lifetime cap as the operator knows it (type(uint64).max: none).
    function authorize(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata signature,
        uint64 maxCap
    ) external;

    /// @notice Opens a subscription (or re-authorizes a live one and changes its terms) with both
    /// owner signatures: the permit as in `authorize`, then the terms for this id, which set the
    /// lifetime cap, the per-window limit and the window length. Operators only.
    /// @param subscription The subscription id (new, or the owner's live one).
    /// @param owner The paying wallet; the terms must be signed by it.
    /// @param permit Value, deadline and the token nonce signed over.
    /// @param permitSignature The permit signature.
    /// @param terms The signed terms.
    /// @param termsSignature The owner's signature over the EIP-712 `Terms` message.
    function authorizeWithTerms(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata permitSignature,
        Terms calldata terms,
        bytes calldata termsSignature
    ) external;

    /// @notice Applies owner-signed terms to a live subscription. Anyone may submit them; the
    /// signature is the authority. Terms identical to those in force (same nonce, same content) are
    /// a no-op, so a front-run copy cannot make the owner's own submission fail.
    /// @param subscription The subscription id.
    /// @param terms The signed terms.
    /// @param signature The owner's signature over the EIP-712 `Terms` message (ECDSA, ERC-1271 or ERC-6492).
    function setTerms(bytes32 subscription, Terms calldata terms, bytes calldata signature) external;

    /// @notice Collects one charge, reverting with `CollectReverted` if it cannot. Operators only.
    function collect(Charge calldata charge) external;

    /// @notice Collects many charges in one transaction. A charge that cannot be collected emits
    /// `ChargeFailed` and leaves the others; if the gas left before an item is below
    /// `MIN_GAS_PER_CHARGE` (or a token call ran out of gas) the whole call reverts with
    /// `InsufficientGas`, so a starved item never looks like a declined payer. Operators only.
    /// @return collected How many charges were collected.
    function collectBatch(Charge[] calldata charges) external returns (uint256 collected);

    /// @notice Cancels by the owner's own transaction (the trust-free fallback; `approve(this, 0)`
    /// on the token is the other one).
    /// @param subscription The caller's subscription id.
    function cancel(bytes32 subscription) external;

    /// @notice Cancels with the owner's one signature, a zero-value EIP-2612 permit for this contract,
    /// which is submitted to the token here: the allowance becomes 0 and every older unsubmitted
    /// permit of the owner with the same token nonce is void. A permit someone submitted to the
    /// token first still cancels (its nonce is used, it verifies, and the allowance is 0). The id
    /// may be the owner's live subscription, or — when the owner has none live — an id never
    /// opened, which is then recorded as canceled (a tombstone) so it can never be authorized. For
    /// a tombstone of a counterfactual owner (ERC-6492, no code yet) the signature is checked
    /// without deploying the wallet and the permit is not submitted. Anyone may submit it.
    /// Canceling voids every outstanding terms signature of the subscription.
    /// @param subscription The subscription id.
    /// @param owner The paying wallet (the subscription's owner, or the tombstone's).
    /// @param permit The zero-value permit: value 0, its deadline and the token nonce signed over.
    /// @param signature The permit signature (ECDSA, ERC-1271 or ERC-6492).
    function cancelWithPermit(
        bytes32 subscription,
        address owner,
        Permit calldata permit,
        bytes calldata signature
    ) external;

    /// @notice Retires the next sequence number of a live subscription without collecting it, for a
    /// charge the operator will never collect (lost off-chain, written off): that number can never
    /// be collected, and the next charge carries `seq + 1`. Nothing moves. Operators only.
    /// @param subscription The subscription id.
    /// @param seq Must be `lastSeq + 1`.
    /// @param reason Why, recorded in `SeqRetired`.
    function retireSeq(bytes32 subscription, uint32 seq, string calldata reason) external;

    /// @notice Adds or removes an operator. Admin only.
    function setOperator(address operator, bool allowed) external;

    /// @notice Starts moving the admin role to `pendingAdmin` (who must call `acceptAdmin`). Admin only.
    function transferAdmin(address pendingAdmin) external;

    /// @notice Completes an admin transfer. Pending admin only.
    function acceptAdmin() external;

    /// @notice The subscription's full state.
    function getSubscription(bytes32 subscription) external view returns (Subscription memory);

    /// @notice The last collected sequence number (the next charge must carry this + 1).
    function lastSeq(bytes32 subscription) external view returns (uint32);

    /// @notice The window `timestamp` falls in for this subscription.
    function windowAt(bytes32 subscription, uint256 timestamp) external view returns (uint32);

    /// @notice What has been collected in `window` so far, for the last charged window or a later one;
    /// reverts with `WindowNotTracked` for earlier windows (rebuild those from `Collected` events).
    function collectedInWindow(bytes32 subscription, uint32 window) external view returns (uint64);

    /// @notice The owner's remaining token allowance to this contract (the rest of the cap).
    function remainingAllowance(bytes32 subscription) external view returns (uint256);

    /// @notice What could be collected right now in the current window:
    /// min(allowance, limit - collected in the current window, cap - total collected), 0 when canceled.
    function headroom(bytes32 subscription) external view returns (uint256);

    /// @notice The owner's live subscription id, or zero.
    function liveSubscriptionOf(address owner) external view returns (bytes32);

    /// @notice Whether `account` may submit permits and collections.
    function isOperator(address account) external view returns (bool);

    /// @notice The admin.
    function admin() external view returns (address);

    /// @notice The EIP-712 domain separator of this contract (name "Tollgate Collector", version "1").
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The token (USDC proxy).
    function TOKEN() external view returns (address);
    /// @notice Where every collection goes; fixed at deployment.
    function PAYEE() external view returns (address);
    /// @notice The unprivileged ERC-6492 validator.
    function VALIDATOR() external view returns (address);
    /// @notice Window length until terms set another (30 days).
    function DEFAULT_PERIOD() external view returns (uint32);
    /// @notice Shortest window terms may set (1 hour).
    function MIN_PERIOD() external view returns (uint32);
    /// @notice Longest window terms may set (366 days).
    function MAX_PERIOD() external view returns (uint32);
    /// @notice Gas a batch needs left before each item.
    function MIN_GAS_PER_CHARGE() external view returns (uint256);
    /// @notice Largest cap, limit or total held (2^48 - 1 base units, about $281M of USDC).
    function MAX_AMOUNT() external view returns (uint64);
    /// @notice keccak256("Terms(bytes32 subscription,uint64 cap,uint64 limit,uint32 period,uint32 nonce,uint256 deadline)").
    function TERMS_TYPEHASH() external view returns (bytes32);
}
