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
    public mutating func take(at now: Instant) -> Bool { take(1, at: now) }

    /// Spends `cost` tokens if there are that many at `now`; `false` means rate limited.
    public mutating func take(_ cost: Double, at now: Instant) -> Bool {
        if let updated, now > updated {
            tokens = min(burst, tokens + Double(now.milliseconds - updated.milliseconds) / 1000 * perSecond)
        }
        if updated == nil || now > updated! { updated = now }
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    /// Whether a token is there at `now`, without spending it.
    public func hasToken(at now: Instant) -> Bool { hasTokens(1, at: now) }

    /// Whether `cost` tokens are there at `now`, without spending them.
    public func hasTokens(_ cost: Double, at now: Instant) -> Bool { tokens(at: now) >= cost }

    /// Milliseconds from `now` until a token is there (0 when one is there now), rounded up.
    public func millisecondsUntilToken(at now: Instant) -> Int64 { millisecondsUntil(1, at: now) }

    /// Milliseconds from `now` until `cost` tokens are there (0 when they are), rounded up.
    public func millisecondsUntil(_ cost: Double, at now: Instant) -> Int64 {
        let missing = cost - tokens(at: now)
        guard missing > 0 else { return 0 }
        guard perSecond > 0 else { return Int64.max }
        return Int64((missing / perSecond * 1000).rounded(.up))
    }

    private func tokens(at now: Instant) -> Double {
        guard let updated, now > updated else { return tokens }
        return min(burst, tokens + Double(now.milliseconds - updated.milliseconds) / 1000 * perSecond)
    }
}
