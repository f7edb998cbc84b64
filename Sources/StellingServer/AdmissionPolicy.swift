import StellingCore

/// Who may join now (docs/DECISIONS.md, "Join admission"): every address has its own bucket
/// (`join_burst` at once, then `joins_per_second`) and the whole event one more
/// (`join_burst_total`, then `joins_per_second_total`). A join needs a token from both, and
/// spends them only when it gets both: an address past its share spends nothing of the
/// event's budget, so one address flooding joins takes at most its own rate from everyone
/// else, and a rush at the hour is limited only by what the server can take. Pure.
public struct AdmissionPolicy: Sendable {
    /// What a join gets.
    public enum Decision: Equatable, Sendable {
        /// Go ahead.
        case admitted
        /// The address has used its share; try again later.
        case addressLimited
        /// The event's budget is spent for now; try again later.
        case eventLimited
    }

    private var perAddress: AddressRateLimiter
    private var event: AddressRateLimiter
    private static let eventKey = "*"

    /// Makes the policy from the configured limits.
    public init(limits: Limits) {
        perAddress = AddressRateLimiter(burst: limits.joinBurst, perSecond: limits.joinsPerSecond)
        event = AddressRateLimiter(burst: limits.joinBurstTotal, perSecond: limits.joinsPerSecondTotal)
    }

    /// Decides one join from `clientAddress` (as the transport gives it) at `now`.
    public mutating func admit(_ clientAddress: String, at now: Instant) -> Decision {
        let key = AddressRateLimiter.key(for: clientAddress)
        guard perAddress.hasToken(key, at: now) else { return .addressLimited }
        guard event.hasToken(AdmissionPolicy.eventKey, at: now) else { return .eventLimited }
        _ = perAddress.take(key, at: now)
        _ = event.take(AdmissionPolicy.eventKey, at: now)
        return .admitted
    }

    /// How long a refused join from `clientAddress` should wait before it tries again: until the
    /// budget that refused it has a token (`retry_after_ms` of its `rate_limited`), at least 1 ms.
    public mutating func retryAfterMilliseconds(_ clientAddress: String, _ decision: Decision, at now: Instant) -> Int64 {
        switch decision {
        case .admitted: return 0
        case .addressLimited: return Int64(max(1, perAddress.millisecondsUntilToken(AddressRateLimiter.key(for: clientAddress), at: now)))
        case .eventLimited: return Int64(max(1, event.millisecondsUntilToken(AdmissionPolicy.eventKey, at: now)))
        }
    }
}
