/// A token bucket: `burst` requests at once, then `perSecond` a second (PROTOCOL.md, rate limits).
public struct TokenBucket: Equatable, Sendable {
    /// The most tokens the bucket holds.
    public let burst: Double
    /// Tokens added a second.
    public let perSecond: Double
    private var tokens: Double
    private var updated: Instant?

    /// Makes a full bucket.
    public init(burst: Int, perSecond: Double) {
        self.burst = Double(burst)
        self.perSecond = perSecond
        self.tokens = Double(burst)
    }

    /// Spends one token if there is one at `now`; `false` means rate limited.
    public mutating func take(at now: Instant) -> Bool {
        if let updated, now > updated {
            tokens = min(burst, tokens + Double(now.milliseconds - updated.milliseconds) / 1000 * perSecond)
        }
        if updated == nil || now > updated! { updated = now }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether a token is there at `now`, without spending it.
    public func hasToken(at now: Instant) -> Bool { tokens(at: now) >= 1 }

    /// Milliseconds from `now` until a token is there (0 when one is there now), rounded up.
    public func millisecondsUntilToken(at now: Instant) -> Int64 {
        let missing = 1 - tokens(at: now)
        guard missing > 0 else { return 0 }
        guard perSecond > 0 else { return Int64.max }
        return Int64((missing / perSecond * 1000).rounded(.up))
    }

    private func tokens(at now: Instant) -> Double {
        guard let updated, now > updated else { return tokens }
        return min(burst, tokens + Double(now.milliseconds - updated.milliseconds) / 1000 * perSecond)
    }
}
