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
}
