import StellingCore
import Testing
@testable import StellingServer
@testable import StellingLWS

/// `trusted_proxies` as a value: parsing addresses and ranges, and whom a request comes from.
@Suite struct TrustedProxiesTests {
    @Test(arguments: [
        ("192.0.2.7", "192.0.2.7"),
        ("::1", "::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:0db8:0000::0001", "2001:db8::1"),
        ("::ffff:192.0.2.7", "192.0.2.7"),          // IPv4-mapped is IPv4
    ])
    func anAddressIsReadInItsUsualForms(text: String, shown: String) {
        #expect(IPAddress(text)?.description == shown)
    }

    @Test(arguments: ["", "1", "127.1", "0x7f.0.0.1", "192.0.2.256", "192.0.2.7:80", "host.example", "2001:db8::g", "1.2.3.4 "])
    func somethingElseIsNoAddress(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),   // one subscriber holds a /64
        ("::1", "::/64"),
    ])
    func perAddressRulesCountIPv4AddressesAndIPv6Slash64s(text: String, key: String) {
        #expect(IPAddress(text)?.limitKey == key)
    }

    @Test(arguments: [
        ("127.0.0.0/8", "127.9.8.7", true),
        ("127.0.0.0/8", "128.0.0.1", false),
        ("10.1.2.3/16", "10.1.200.1", true),           // host bits are ignored
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),       // mapped IPv4 in an IPv4 range
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "2001:db8::1", false),           // families never mix
        ("::1", "::1", true),
        ("::1", "::2", false),
        ("fd00::/8", "fd12:3456::1", true),
        ("fd00::/8", "fe80::1", false),
        ("192.0.2.7", "192.0.2.7", true),
        ("192.0.2.7", "192.0.2.8", false),
        ("2001:db8::/33", "2001:db8:7fff::1", true),
        ("2001:db8::/33", "2001:db8:8000::1", false),
    ])
    func aRangeHoldsTheAddressesItsPrefixCovers(range: String, address: String, expected: Bool) {
        #expect(AddressRange(range)!.contains(IPAddress(address)!) == expected)
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8/8", "nginx", "10.0.0.0/-1", ""])
    func aBadRangeIsRefusedWithItsText(entry: String) {
        #expect(throws: InvalidAddressRange(entry: entry)) { try TrustedProxies(parsing: ["127.0.0.1", entry]) }
    }

    @Test func theDefaultTrustsLoopbackOnly() {
        #expect(TrustedProxies.loopback.trusts(IPAddress("127.0.0.1")!))
        #expect(TrustedProxies.loopback.trusts(IPAddress("127.0.0.53")!))
        #expect(TrustedProxies.loopback.trusts(IPAddress("::1")!))
        #expect(!TrustedProxies.loopback.trusts(IPAddress("10.0.0.1")!))
        #expect(!TrustedProxies.loopback.trusts(IPAddress("::2")!))
    }

    @Test(arguments: [
        // (peer, X-Forwarded-For, client)
        ("127.0.0.1", nil, "127.0.0.1"),                                   // trusted, no header: the proxy itself
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),                       // nginx in front
        ("127.0.0.1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),         // the client wrote the left one
        ("127.0.0.1", "203.0.113.9, 10.0.0.5", "203.0.113.9"),             // two trusted proxies
        ("127.0.0.1", "203.0.113.9,10.0.0.5 , 127.0.0.1", "203.0.113.9"),
        ("127.0.0.1", "10.0.0.7, 10.0.0.5", "10.0.0.7"),                   // all trusted: where it began
        ("127.0.0.1", "garbage, 203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "203.0.113.9, garbage", "127.0.0.1"),                // unreadable before an untrusted one
        ("127.0.0.1", "203.0.113.9:4711", "203.0.113.9"),                  // with a port
        ("127.0.0.1", "[2001:db8::9]:4711", "2001:db8::9"),
        ("127.0.0.1", "2001:db8::9", "2001:db8::9"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("::1", "203.0.113.9", "203.0.113.9"),
        ("198.51.100.4", "203.0.113.9", "198.51.100.4"),                   // forged from outside: ignored
        ("198.51.100.4", "127.0.0.1", "198.51.100.4"),
        ("2001:db8::4", "10.0.0.5", "2001:db8::4"),
    ] as [(String, String?, String)])
    func theClientIsTheRightMostUntrustedForwardedAddress(peer: String, forwardedFor: String?, client: String) throws {
        let proxies = try TrustedProxies(parsing: ["127.0.0.0/8", "::1", "10.0.0.0/8"])
        #expect(proxies.client(peer: IPAddress(peer)!, forwardedFor: forwardedFor) == IPAddress(client)!)
    }

    @Test func trustingNobodyIgnoresEveryHeader() throws {
        let proxies = try TrustedProxies(parsing: [])
        #expect(proxies.client(peer: IPAddress("127.0.0.1")!, forwardedFor: "203.0.113.9") == IPAddress("127.0.0.1")!)
    }
}

/// The connection caps for sockets from a trusted proxy, charged when the request names its client.
@Suite struct ProxiedConnectionLimiterTests {
    @Test func aProxiedSocketCountsInTheTotalAtOnceAndAtItsClientLater() {
        var limiter = ConnectionLimiter(maxConnections: 100, maxConnectionsPerAddress: 2)
        #expect(limiter.openedUnattributed() == .admitted)
        #expect(limiter.openConnections == 1)
        #expect(limiter.connections(from: "203.0.113.9") == 0)
        #expect(limiter.attribute("203.0.113.9") == .admitted)
        #expect(limiter.connections(from: "203.0.113.9") == 1)
        #expect(limiter.openedUnattributed() == .admitted)
        #expect(limiter.attribute("203.0.113.9") == .admitted)
        #expect(limiter.openedUnattributed() == .admitted)
        #expect(limiter.attribute("203.0.113.9") == .overAddress)
        #expect(limiter.openedUnattributed() == .admitted)
        #expect(limiter.attribute("198.51.100.1") == .admitted)    // another client behind the same proxy
        limiter.closed("203.0.113.9")
        #expect(limiter.connections(from: "203.0.113.9") == 2)
        #expect(limiter.openConnections == 3)
    }

    @Test func aProxiedSocketNeverAttributedIsForgottenWithNil() {
        var limiter = ConnectionLimiter(maxConnections: 100, maxConnectionsPerAddress: 2)
        _ = limiter.openedUnattributed()
        limiter.closed(nil)
        #expect(limiter.openConnections == 0)
    }

    @Test func aKeepAliveSocketMovesToTheNextRequestsClient() {
        var limiter = ConnectionLimiter(maxConnections: 100, maxConnectionsPerAddress: 1)
        _ = limiter.openedUnattributed()
        #expect(limiter.attribute("a") == .admitted)
        limiter.unattribute("a")
        #expect(limiter.attribute("b") == .admitted)
        #expect(limiter.connections(from: "a") == 0)
        #expect(limiter.openedUnattributed() == .admitted)
        #expect(limiter.attribute("a") == .admitted)
    }

    @Test func theTotalCapAppliesToProxiedSocketsToo() {
        var limiter = ConnectionLimiter(maxConnections: 1, maxConnectionsPerAddress: 10)
        #expect(limiter.openedUnattributed() == .admitted)
        #expect(limiter.openedUnattributed() == .overTotal)
        for _ in 0..<15 { #expect(limiter.openedUnattributed() == .overTotal) }
        #expect(limiter.openedUnattributed() == .drop)   // past the headroom of 16
    }
}

/// Per-address token buckets (joins, wrong export keys).
@Suite struct AddressRateLimiterTests {
    @Test func eachAddressHasItsOwnBurstAndRefills() {
        var limiter = AddressRateLimiter(burst: 2, perSecond: 1)
        let start = Instant(milliseconds: 1_000_000)
        let r1 = limiter.take("a", at: start)
        #expect(r1)
        let r2 = limiter.take("a", at: start)
        #expect(r2)
        let r3 = limiter.take("a", at: start)
        #expect(!r3)
        let r4 = limiter.hasToken("a", at: start)
        #expect(!r4)
        let r5 = limiter.millisecondsUntilToken("a", at: start)
        #expect(r5 == 1000)
        let r6 = limiter.take("b", at: start)
        #expect(r6)
        let r7 = limiter.take("a", at: Instant(milliseconds: 1_001_000))
        #expect(r7)
    }

    @Test func anIPv6AddressCountsAsItsSlash64() {
        #expect(AddressRateLimiter.key(for: "2001:db8:1:2::7") == AddressRateLimiter.key(for: "2001:db8:1:2:ffff::1"))
        #expect(AddressRateLimiter.key(for: "192.0.2.7") == "192.0.2.7")
    }

    @Test func idleAddressesAreForgotten() {
        var limiter = AddressRateLimiter(burst: 2, perSecond: 1)
        let r8 = limiter.take("a", at: Instant(milliseconds: 0))
        #expect(r8)
        let r9 = limiter.take("b", at: Instant(milliseconds: 100_000))
        #expect(r9)
        #expect(limiter.trackedAddresses == 1)
    }
}

/// Join admission: per-address fairness within an event-wide budget.
@Suite struct AdmissionPolicyTests {
    static let now = Instant(milliseconds: 5_000_000)

    @Test func oneAddressPastItsShareSpendsNothingOfTheEventsBudget() {
        var policy = AdmissionPolicy(limits: Limits(joinBurst: 3, joinsPerSecond: 1, joinBurstTotal: 5, joinsPerSecondTotal: 1))
        var flood: [AdmissionPolicy.Decision] = []
        for _ in 0..<100 { flood.append(policy.admit("203.0.113.9", at: Self.now)) }
        #expect(flood.filter { $0 == .admitted }.count == 3)
        #expect(flood.last == .addressLimited)
        // Two tokens of the event's five are left for everyone else.
        let a = policy.admit("198.51.100.1", at: Self.now)
        let b = policy.admit("198.51.100.2", at: Self.now)
        let c = policy.admit("198.51.100.3", at: Self.now)
        #expect([a, b, c] == [.admitted, .admitted, .eventLimited])
    }

    @Test func bothBucketsRefillWithTime() {
        var policy = AdmissionPolicy(limits: Limits(joinBurst: 1, joinsPerSecond: 2, joinBurstTotal: 1, joinsPerSecondTotal: 2))
        let first = policy.admit("a", at: Self.now)
        let second = policy.admit("a", at: Self.now)
        let later = policy.admit("a", at: Instant(milliseconds: Self.now.milliseconds + 500))
        #expect([first, second, later] == [.admitted, .addressLimited, .admitted])
    }

    @Test func aRefusedJoinIsToldWhenTheBucketThatRefusedItHasATokenAgain() {
        // One join a second per address, two a second for the event.
        var policy = AdmissionPolicy(limits: Limits(joinBurst: 1, joinsPerSecond: 1, joinBurstTotal: 2, joinsPerSecondTotal: 2))
        #expect(policy.admit("a", at: Self.now) == .admitted)
        let address = policy.admit("a", at: Self.now)
        #expect(address == .addressLimited)
        #expect(policy.retryAfterMilliseconds("a", address, at: Self.now) == 1000)
        #expect(policy.admit("b", at: Self.now) == .admitted)
        let event = policy.admit("c", at: Self.now)
        #expect(event == .eventLimited)
        #expect(policy.retryAfterMilliseconds("c", event, at: Self.now) == 500)
        // Later, less to wait; never less than 1 ms.
        #expect(policy.retryAfterMilliseconds("a", .addressLimited, at: Instant(milliseconds: Self.now.milliseconds + 900)) == 100)
        #expect(policy.retryAfterMilliseconds("a", .addressLimited, at: Instant(milliseconds: Self.now.milliseconds + 5000)) == 1)
    }

    @Test func theDefaultsLetTheFourHundredOfOneOfficeJoinWithinSeconds() {
        // 400 from one address at once: 200 now, the rest at 50 a second (4 s more).
        var policy = AdmissionPolicy(limits: Limits())
        var admitted = 0
        for _ in 0..<400 where policy.admit("192.0.2.1", at: Self.now) == .admitted { admitted += 1 }
        #expect(admitted == 200)
        for _ in 0..<200 where policy.admit("192.0.2.1", at: Instant(milliseconds: Self.now.milliseconds + 4000)) == .admitted { admitted += 1 }
        #expect(admitted == 400)
    }
}
