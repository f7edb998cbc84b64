import Testing
@testable import StellingLWS

/// Issue 13: logs never carry a whole network address (docs/PRIVACY.md, Logs).
@Suite struct PeerAddressTests {
    @Test(arguments: [
        ("192.0.2.77", "192.0.2.0/24"),
        ("192.0.2.77:51234", "192.0.2.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("[2001:db8:1234:5678::1]:443", "2001:db8:1234::/48"),
        ("2001:db8:1234:5678::/64", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("::1", "::/48"),
        ("", "unknown"),
        ("not an address", "unknown"),
        ("999.1.1.1", "unknown"),
    ])
    func anAddressKeepsOnlyItsNetwork(address: String, shown: String) {
        #expect(PeerAddress.truncated(address) == shown)
    }

    @Test func aLibwebsocketsLineLosesTheHostPartOfEveryAddress() {
        let line = "lws_server_socket_service: peer 203.0.113.45:40022 and [2001:db8:aa:bb::7] closed, v1.2.3 at 12:30:05"
        let redacted = PeerAddress.redacted(line)
        #expect(redacted == "lws_server_socket_service: peer 203.0.113.0/24 and 2001:db8:aa::/48 closed, v1.2.3 at 12:30:05")
        #expect(!redacted.contains("45") && !redacted.contains("::7"))
    }
}
