import StellingCore

/// Token buckets per client address (an IPv4 address or IPv6 /64, `IPAddress.limitKey`):
/// `burst` at once, then `perSecond`. Pure: the caller passes the time. Buckets unused for
/// longer than a refill takes are forgotten, so memory follows the addresses of the last minute.
public struct AddressRateLimiter: Sendable {
    /// Tokens an address holds at most (and starts with).
    public let burst: Double
    /// Tokens an address gets back a second.
    public let perSecond: Double
    private var buckets: [String: (tokens: Double, updated: Int64)] = [:]
    private var lastPrune: Int64?

    /// Makes a limiter (burst at least 1, rate above 0).
    public init(burst: Int, perSecond: Double) {
        self.burst = Double(max(1, burst))
        self.perSecond = max(perSecond, 0.000_001)
    }

    /// The limiter's key for a client address as the transport gives it ("192.0.2.7",
    /// "2001:db8::1"): an IPv6 address counts as its /64.
    public static func key(for clientAddress: String) -> String {
        IPAddress(clientAddress)?.limitKey ?? clientAddress
    }

    /// Whether `key` has a token at `now` (nothing is spent).
    public mutating func hasToken(_ key: String, at now: Instant) -> Bool {
        tokens(key, at: now) >= 1
    }

    /// Spends one token of `key` if it has one; false means limited.
    public mutating func take(_ key: String, at now: Instant) -> Bool {
        let available = tokens(key, at: now)
        prune(at: now.milliseconds)
        guard available >= 1 else { return false }
        buckets[key] = (available - 1, now.milliseconds)
        return true
    }

    /// Milliseconds until `key` has a token again (0 when it has one).
    public mutating func millisecondsUntilToken(_ key: String, at now: Instant) -> Int {
        let available = tokens(key, at: now)
        return available >= 1 ? 0 : Int(((1 - available) / perSecond * 1000).rounded(.up))
    }

    /// The addresses remembered now (tests, metrics).
    public var trackedAddresses: Int { buckets.count }

    private mutating func tokens(_ key: String, at now: Instant) -> Double {
        guard let bucket = buckets[key] else { return burst }
        let elapsed = Double(max(0, now.milliseconds - bucket.updated)) / 1000
        let tokens = min(burst, bucket.tokens + elapsed * perSecond)
        buckets[key] = (tokens, max(bucket.updated, now.milliseconds))
        return tokens
    }

    private mutating func prune(at now: Int64) {
        if let lastPrune, now - lastPrune <= 60_000 { return }
        lastPrune = now
        let refill = Int64(burst / perSecond * 1000) + 1000
        buckets = buckets.filter { now - $0.value.updated < refill }
    }
}
