import Testing
@testable import StellingLWS

/// Which WebSocket upgrades are refused, with which status, decided without a socket.
@Suite struct UpgradePolicyTests {
    private let policy = UpgradePolicy(subprotocol: "stelling.v1", echoConformance: false,
                                       originPolicy: OriginPolicy(allowedOrigins: []))

    private func request(_ change: (inout UpgradePolicy.Request) -> Void = { _ in }) -> UpgradePolicy.Request {
        var request = UpgradePolicy.Request(upgrade: "websocket", path: "/ws", origin: "https://panel.example",
                                            host: "panel.example", offeredProtocols: "stelling.v1")
        change(&request)
        return request
    }

    private func status(_ decision: UpgradePolicy.Decision) -> Int? {
        if case .refuse(_, let response) = decision { return response.status }
        return nil
    }

    @Test func aSameOriginUpgradeOnTheWebSocketPathIsAccepted() {
        #expect(policy.decide(request()) == .accept)
        #expect(policy.decide(request { $0.offeredProtocols = nil }) == .accept)
        #expect(policy.decide(request { $0.offeredProtocols = "chat, stelling.v1" }) == .accept)
        #expect(policy.decide(request { $0.upgrade = "WebSocket" }) == .accept)
    }

    @Test(arguments: [
        ("h2c", UpgradePolicy.Refusal.notWebSocket, 403),
        ("shutting down", .shuttingDown, 503),
        ("over total", .overTotal, 503),
        ("over address", .overAddress, 429),
        ("path", .path, 404),
        ("origin", .origin, 403),
        ("subprotocol", .subprotocol, 400),
    ])
    func eachRefusalHasItsStatus(kind: String, refusal: UpgradePolicy.Refusal, status: Int) {
        let refused = request { request in
            switch kind {
            case "h2c": request.upgrade = "h2c"
            case "shutting down": request.shuttingDown = true
            case "over total": request.admission = .overTotal
            case "over address": request.admission = .overAddress
            case "path": request.path = "/echo"
            case "origin": request.origin = "https://elsewhere.example"
            default: request.offeredProtocols = "chat"
            }
        }
        let decision = policy.decide(refused)
        guard case .refuse(let reason, _) = decision else {
            Issue.record("accepted")
            return
        }
        #expect(reason == refusal)
        #expect(self.status(decision) == status)
    }

    @Test func theConformanceEchoAddsItsPathAndSubprotocol() {
        let echo = UpgradePolicy(subprotocol: "stelling.v1", echoConformance: true,
                                 originPolicy: OriginPolicy(allowedOrigins: []))
        #expect(echo.decide(request { $0.path = "/echo"; $0.offeredProtocols = "echo" }) == .accept)
        #expect(status(policy.decide(request { $0.offeredProtocols = "echo" })) == 400)
    }
}
