import Foundation
import StellingCore
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// `trusted_proxies` through the real transport: per-address rules follow the forwarded
/// client address from a trusted proxy, and the peer's own address from anyone else.
@Suite(.timeLimit(.minutes(1)))
struct ProxyTests {
    static let proxy = try! TrustedProxies(parsing: ["127.0.0.1"])

    @Test func theConnectionCapCountsTheForwardedAddressOfATrustedProxy() throws {
        let event = try LiveEvent(maxConnectionsPerAddress: 2, trustedProxies: ProxyTests.proxy)
        var open: [RawWebSocket] = []
        for _ in 0..<2 {
            let (client, status) = try RawWebSocket.open(port: event.port, headers: ["X-Forwarded-For": "203.0.113.9"])
            #expect(status == 101)
            open.append(client)
        }
        let (third, status) = try RawWebSocket.open(port: event.port, headers: ["X-Forwarded-For": "203.0.113.9"])
        #expect(status == 429)
        _ = third
        // Another client behind the same proxy has its own share.
        for _ in 0..<2 {
            let (client, other) = try RawWebSocket.open(port: event.port, headers: ["X-Forwarded-For": "198.51.100.1"])
            #expect(other == 101)
            open.append(client)
        }
        #expect(open.count == 4)
    }

    @Test func aForgedForwardedForFromAnUntrustedPeerIsIgnored() throws {
        let event = try LiveEvent(maxConnectionsPerAddress: 2, trustedProxies: ProxyTests.proxy)
        var open: [RawWebSocket] = []
        var statuses: [Int] = []
        for index in 1...3 {
            let (client, status) = try RawWebSocket.open(port: event.port, source: "127.0.0.2",
                                                         headers: ["X-Forwarded-For": "203.0.113.\(index)"])
            statuses.append(status)
            open.append(client)
        }
        #expect(statuses == [101, 101, 429])
    }

    @Test func joinsAreLimitedPerForwardedAddress() throws {
        var configuration = LiveEvent.configuration()
        configuration.limits.joinBurst = 2
        configuration.limits.joinsPerSecond = 0.01
        let event = try LiveEvent(configuration: configuration, trustedProxies: ProxyTests.proxy)
        func join(_ address: String) throws -> String {
            let (client, status) = try RawWebSocket.open(port: event.port, headers: ["X-Forwarded-For": address])
            guard status == 101 else { return "status \(status)" }
            try client.sendText(#"{"type":"join","name":"P"}"#)
            while let text = try client.readText() {
                if text.contains(#""type":"welcome""#) { return "welcome" }
                if text.contains(#""code":"rate_limited""#) { return "rate_limited" }
            }
            return "nothing"
        }
        #expect(try join("203.0.113.9") == "welcome")
        #expect(try join("203.0.113.9") == "welcome")
        #expect(try join("203.0.113.9") == "rate_limited")
        #expect(try join("198.51.100.1") == "welcome")
    }

    @Test func wrongExportKeysAreLimitedPerClientAddress() throws {
        let event = try LiveEvent(trustedProxies: ProxyTests.proxy)
        let wrong = ["Authorization": "Bearer not-the-key-at-all-really", "X-Forwarded-For": "203.0.113.9"]
        for _ in 0..<EventService.exportKeyBurst {
            #expect(try event.http("/export/votes.csv", headers: wrong).status == 401)
        }
        let limited = try event.http("/export/votes.csv", headers: wrong)
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] != nil)
        // Once limited, even the right key from that address waits: guessing stops there.
        var right = ["Authorization": "Bearer \(LiveEvent.key)", "X-Forwarded-For": "203.0.113.9"]
        #expect(try event.http("/export/votes.csv", headers: right).status == 429)
        right["X-Forwarded-For"] = "198.51.100.1"
        #expect(try event.http("/export/votes.csv", headers: right).status == 200)
    }
}
