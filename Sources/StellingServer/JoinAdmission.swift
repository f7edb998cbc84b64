import StellingCore

/// Joins limited per network address before the room does any work (a join makes a
/// participant, a token and a record), so that a flood from one address cannot crowd out the
/// rest: one token bucket per address, forgotten once it would be full again. A value with
/// no clock: the time comes in.
struct JoinAdmission {
    /// Joins one address may make at once.
    let burst: Int
    /// Joins one address regains a second.
    let perSecond: Double
    private var buckets: [String: (bucket: TokenBucket, used: Instant)] = [:]
    private var lastPrune = Instant(milliseconds: 0)

    init(burst: Int, perSecond: Double) {
        self.burst = burst
        self.perSecond = perSecond
    }

    /// The addresses with a bucket now.
    var trackedAddresses: Int { buckets.count }

    /// Whether a join from `address` at `now` may go on; spends one of its tokens.
    mutating func allows(_ address: String, at now: Instant) -> Bool {
        var entry = buckets[address] ?? (TokenBucket(burst: burst, perSecond: perSecond), now)
        let allowed = entry.bucket.take(at: now)
        entry.used = now
        buckets[address] = entry
        // A bucket unused for longer than it takes to refill is full again: forget it.
        let refill = Int64(Double(burst) / max(perSecond, 0.001) * 1000) + 1000
        if now.milliseconds - lastPrune.milliseconds > 60_000 {
            lastPrune = now
            buckets = buckets.filter { now.milliseconds - $0.value.used.milliseconds < refill }
        }
        return allowed
    }
}
