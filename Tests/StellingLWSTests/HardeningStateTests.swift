import Testing
@testable import StellingLWS

/// The origin rule against Cross-Site WebSocket Hijacking, as a value.
@Suite struct OriginPolicyTests {
    @Test(arguments: [
        // (origin, host, allowed origins, allowed?)
        (nil, "stelling.example.nl", [], true),                                      // not a browser
        ("https://stelling.example.nl", "stelling.example.nl", [], true),
        ("https://Stelling.Example.NL/", "stelling.example.nl", [], true),
        ("http://127.0.0.1:8080", "127.0.0.1:8080", [], true),
        ("https://stelling.example.nl:443", "stelling.example.nl", [], true),        // default port
        ("http://stelling.example.nl", "stelling.example.nl:80", [], true),
        ("https://evil.example", "stelling.example.nl", [], false),
        ("https://stelling.example.nl.evil.example", "stelling.example.nl", [], false),
        ("http://127.0.0.1:9999", "127.0.0.1:8080", [], false),                      // other port
        ("null", "stelling.example.nl", [], false),                                  // sandboxed frame, file
        ("https://stelling.example.nl", nil, [], false),                             // no Host to compare
        ("https://stelling.example.nl", "internal:8080", ["https://stelling.example.nl"], true),
        ("https://STELLING.example.nl:443", "internal:8080", ["https://stelling.example.nl/"], true),
        ("http://internal:8080", "internal:8080", ["https://stelling.example.nl"], false),  // a list replaces the host rule
        ("http://stelling.example.nl", "x", ["https://stelling.example.nl"], false),       // scheme counts
    ] as [(String?, String?, [String], Bool)])
    func anOriginIsAllowedOnlyWhenItMatches(origin: String?, host: String?, allowed: [String], expected: Bool) {
        #expect(OriginPolicy(allowedOrigins: allowed).allows(origin: origin, host: host) == expected)
    }
}

/// The connection caps, as a value.
@Suite struct ConnectionLimiterTests {
    @Test func theCapPerAddressRefusesThatAddressOnly() {
        var limiter = ConnectionLimiter(maxConnections: 100, maxConnectionsPerAddress: 2)
        #expect(limiter.opened("192.0.2.1") == .admitted)
        #expect(limiter.opened("192.0.2.1") == .admitted)
        #expect(limiter.opened("192.0.2.1") == .overAddress)
        #expect(limiter.opened("192.0.2.2") == .admitted)
        limiter.closed("192.0.2.1")
        limiter.closed("192.0.2.1")
        #expect(limiter.connections(from: "192.0.2.1") == 1)
        #expect(limiter.opened("192.0.2.1") == .admitted)
    }

    @Test func theTotalCapRefusesEveryone() {
        var limiter = ConnectionLimiter(maxConnections: 2, maxConnectionsPerAddress: 50)
        #expect(limiter.opened("a") == .admitted)
        #expect(limiter.opened("b") == .admitted)
        #expect(limiter.opened("c") == .overTotal)
        #expect(limiter.openConnections == 3)
        limiter.closed("c")
        limiter.closed("a")
        #expect(limiter.opened("d") == .admitted)
    }

    @Test func farPastACapConnectionsAreDroppedUncounted() {
        var limiter = ConnectionLimiter(maxConnections: 1000, maxConnectionsPerAddress: 1)
        #expect(limiter.addressHeadroom == 8)
        #expect(limiter.opened("a") == .admitted)
        for _ in 0..<8 { #expect(limiter.opened("a") == .overAddress) }
        #expect(limiter.shouldDrop("a"))
        #expect(limiter.opened("a") == .drop)
        #expect(limiter.connections(from: "a") == 9)
        #expect(!limiter.shouldDrop("b"))
    }

    @Test func headroomsScaleWithTheCapsWithinBounds() {
        #expect(ConnectionLimiter(maxConnections: 20000, maxConnectionsPerAddress: 50).totalHeadroom == 1024)
        #expect(ConnectionLimiter(maxConnections: 3, maxConnectionsPerAddress: 50).totalHeadroom == 16)
        #expect(ConnectionLimiter(maxConnections: 20000, maxConnectionsPerAddress: 50).addressHeadroom == 50)
        #expect(ConnectionLimiter(maxConnections: 20000, maxConnectionsPerAddress: 5000).addressHeadroom == 256)
    }

    @Test func closingAnUnknownAddressChangesNothing() {
        var limiter = ConnectionLimiter(maxConnections: 10, maxConnectionsPerAddress: 10)
        limiter.closed("never")
        #expect(limiter.openConnections == 0)
    }
}

@Suite struct LoopbackHostTests {
    @Test(arguments: [("127.0.0.1", true), ("127.1.2.3", true), ("::1", true), ("localhost", true), ("LOCALHOST", true),
                      ("0.0.0.0", false), ("::", false), ("192.168.1.1", false), ("127.0.0", false), ("example.nl", false)])
    func onlyLoopbackHostsCount(host: String, expected: Bool) {
        #expect(isLoopbackHost(host) == expected)
    }
}
