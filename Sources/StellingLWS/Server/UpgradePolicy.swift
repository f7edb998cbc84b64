/// Decides a WebSocket upgrade before lws accepts it, so that a refusal gets a real HTTP
/// status: a pure value, tested without sockets. The server reads the headers and answers.
struct UpgradePolicy: Sendable {
    /// What the request carried, as the policy needs it.
    struct Request: Equatable, Sendable {
        /// The `Upgrade` header's value.
        var upgrade: String
        /// The request path (`GET /ws`), nil when lws has none.
        var path: String?
        /// The `Origin` header.
        var origin: String?
        /// The `Host` header.
        var host: String?
        /// The `Sec-WebSocket-Protocol` header: names separated by ",".
        var offeredProtocols: String?
        /// What the connection limiter said when the connection was accepted.
        var admission: ConnectionLimiter.Admission = .admitted
        /// The server is stopping.
        var shuttingDown = false
    }

    /// Why an upgrade was refused; the server counts some of them.
    enum Refusal: Equatable, Sendable {
        case notWebSocket, shuttingDown, overTotal, overAddress, path, origin, subprotocol
    }

    /// The outcome.
    enum Decision: Equatable, Sendable {
        case accept
        case refuse(Refusal, HTTPResponse)
    }

    /// The subprotocol served; an upgrade that offers none binds to it too.
    let subprotocol: String
    /// Whether the conformance echo (`/echo`, subprotocol "echo") is on.
    let echoConformance: Bool
    /// Which pages may connect.
    let originPolicy: OriginPolicy

    /// Only `/ws` upgrades (and `/echo` with the conformance echo).
    func isWebSocketPath(_ path: String?) -> Bool {
        path == "/ws" || (echoConformance && path == TransportOptions.echoPath)
    }

    /// In order: the upgrade must name WebSocket (h2c would bypass these checks), the server
    /// must be running, the caps (503/429), the path (404), the Origin (403), and an offered
    /// subprotocol list must hold ours (400).
    func decide(_ request: Request) -> Decision {
        guard request.upgrade.lowercased() == "websocket" else {
            return .refuse(.notWebSocket, .text("only WebSocket upgrades are served\n", status: 403))
        }
        if request.shuttingDown { return .refuse(.shuttingDown, .text("shutting down\n", status: 503)) }
        switch request.admission {
        case .overTotal: return .refuse(.overTotal, .serverFull)
        case .overAddress: return .refuse(.overAddress, .addressFull)
        case .admitted, .drop: break
        }
        guard isWebSocketPath(request.path) else { return .refuse(.path, .text("not found\n", status: 404)) }
        guard originPolicy.allows(origin: request.origin, host: request.host) else {
            return .refuse(.origin, .text("this origin may not connect\n", status: 403))
        }
        if let offered = request.offeredProtocols {
            var acceptable = [subprotocol]
            if echoConformance { acceptable.append(TransportOptions.echoSubprotocol) }
            let names = offered.split(separator: ",").map { String($0).trimmingBlanks() }
            guard names.contains(where: acceptable.contains) else {
                return .refuse(.subprotocol, .text("unsupported subprotocol; offer \(subprotocol)\n", status: 400))
            }
        }
        return .accept
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingBlanks() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
