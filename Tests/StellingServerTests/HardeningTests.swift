import Foundation
import StellingCore
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// The transport's defences on a real server on 127.0.0.1: origins, security headers,
/// connection caps, timeouts for silent and slow clients. Serialized, each wait bounded.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HardeningTests {
    typealias Opcode = RawWebSocket.Opcode

    // MARK: Origin (Cross-Site WebSocket Hijacking)

    @Test func anUpgradeWithoutAnOriginIsAllowed() throws {
        try withServer { _, handler, port in
            let (client, status) = try RawWebSocket.open(port: port)
            #expect(status == 101)
            try client.sendText("hi")
            #expect(try client.readText() == "hi")
            #expect(handler.opened.first?.origin == nil)
        }
    }

    @Test func anUpgradeFromThePagesOwnHostIsAllowed() throws {
        try withServer { _, handler, port in
            let (_, status) = try RawWebSocket.open(port: port, origin: "http://127.0.0.1:\(port)")
            #expect(status == 101)
            let (_, named) = try RawWebSocket.open(port: port, origin: "https://stelling.example.nl",
                                                   host: "stelling.example.nl")
            #expect(named == 101)
            #expect(eventually { handler.opened.count == 2 })
        }
    }

    @Test(arguments: ["https://evil.example", "http://127.0.0.1:1", "null", "http://127.0.0.1.evil.example"])
    func anUpgradeFromAnotherOriginGets403(origin: String) throws {
        try withServer { server, handler, port in
            let (client, status) = try RawWebSocket.open(port: port, origin: origin)
            #expect(status == 403)
            #expect(try client.refusalBody() == "this origin may not connect\n")
            #expect(client.handshakeHeaders["connection"] == "close")
            #expect(try client.waitForEOF(timeout: 3))
            #expect(handler.opened.isEmpty)
            #expect(try onLoop(server) { server.counters.refusedOrigin } == 1)
        }
    }

    @Test func configuredOriginsReplaceTheSameHostRule() throws {
        try withServer(configure: { $0.allowedOrigins = ["https://stelling.example.nl"] }) { _, _, port throws in
            #expect(try RawWebSocket.open(port: port, origin: "https://stelling.example.nl").1 == 101)
            #expect(try RawWebSocket.open(port: port, origin: "http://127.0.0.1:\(port)").1 == 403)
            #expect(try RawWebSocket.open(port: port).1 == 101)
        }
    }

    @Test func upgradesElsewhereOrForAnotherSubprotocolGetAStatus() throws {
        try withServer { _, handler, port throws in
            #expect(try RawWebSocket.open(port: port, path: "/other").1 == 404)
            #expect(try RawWebSocket.open(port: port, path: "/echo").1 == 404)  // only with --echo-conformance
            #expect(try RawWebSocket.open(port: port, subprotocols: ["chat.v9"]).1 == 400)
            #expect(try RawWebSocket.open(port: port, subprotocols: ["http"]).1 == 400)
            #expect(try RawWebSocket.open(port: port, subprotocols: ["chat.v9", "stelling.v1"]).1 == 101)
            #expect(eventually { handler.opened.count == 1 })
        }
    }

    // MARK: Security headers

    static let expectedHeaders = [
        ("content-security-policy", SecurityHeaders.contentSecurityPolicy),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ]

    @Test(arguments: [("/", 200), ("/app.js", 200), ("/healthz", 200), ("/missing.html", 404), ("/export/x", 401)])
    func everyResponseCarriesTheSecurityHeadersOnce(path: String, status: Int) throws {
        try withServer { _, _, port in
            let response = try RawWebSocket.http(port: port, path: path)
            #expect(response.status == status)
            #expect(response.headers["content-security-policy"]
                == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
            for (name, value) in Self.expectedHeaders {
                #expect(response.headers[name] == value, "\(name) on \(path)")
                #expect(response.count(name) == 1, "\(name) once on \(path)")
            }
            #expect(response.headers["strict-transport-security"] == nil)  // only over TLS
        }
    }

    @Test func aRefusedUpgradeAndA405CarryThemToo() throws {
        try withServer { _, _, port in
            let (client, status) = try RawWebSocket.open(port: port, origin: "https://evil.example")
            #expect(status == 403)
            for (name, value) in Self.expectedHeaders { #expect(client.handshakeHeaders[name] == value) }
            let post = try RawWebSocket.http(port: port, method: "DELETE", path: "/")
            #expect(post.status == 405)
            for (name, value) in Self.expectedHeaders { #expect(post.headers[name] == value) }
        }
    }

    @Test func aDynamicResponsesOwnPolicyReplacesTheDefault() throws {
        try withServer { _, _, port in
            let response = try RawWebSocket.http(port: port, path: "/report")
            #expect(response.status == 200)
            #expect(response.count("content-security-policy") == 1)
            #expect(response.headers["content-security-policy"] == "default-src 'none'; style-src 'sha256-abc'")
            #expect(response.headers["x-frame-options"] == "DENY")
        }
    }

    // MARK: Connection caps

    @Test func theCapPerAddressAnswers429ToUpgradesAndRequestsFromThatAddressOnly() throws {
        try withServer(configure: { $0.maxConnectionsPerAddress = 2 }) { server, handler, port in
            var first: RawWebSocket? = try RawWebSocket.open(port: port).0
            let second = try RawWebSocket.open(port: port).0
            let (refused, status) = try RawWebSocket.open(port: port)
            #expect(status == 429)
            #expect(refused.handshakeHeaders["retry-after"] == "30")
            #expect(try refused.refusalBody().contains("Too many connections from your address"))
            #expect(refused.handshakeHeaders["x-frame-options"] == "DENY")
            #expect(try refused.waitForEOF(timeout: 3))
            let page = try RawWebSocket.http(port: port, path: "/healthz")
            #expect(page.status == 429)
            #expect(page.headers["retry-after"] == "30")
            // Another address is served.
            let (other, otherStatus) = try RawWebSocket.open(port: port, source: "127.0.0.2")
            #expect(otherStatus == 101)
            #expect(try RawWebSocket.http(port: port, path: "/healthz", source: "127.0.0.2").status == 200)
            #expect(eventually { handler.opened.count == 3 })
            // A closed connection frees its place.
            first = nil
            _ = first
            #expect(eventually { (try? onLoop(server) { server.counters.openSockets }) == 2 })
            #expect(try RawWebSocket.open(port: port).1 == 101)
            #expect(try onLoop(server) { server.counters.refusedOverAddress } == 2)
            _ = (second, other)
        }
    }

    @Test func theTotalCapAnswers503() throws {
        try withServer(configure: { $0.maxConnections = 3 }) { server, _, port in
            let open = try ["127.0.0.1", "127.0.0.2", "127.0.0.3"].map { try RawWebSocket.open(port: port, source: $0) }
            #expect(open.allSatisfy { $0.1 == 101 })
            let (refused, status) = try RawWebSocket.open(port: port, source: "127.0.0.4")
            #expect(status == 503)
            #expect(refused.handshakeHeaders["retry-after"] == "30")
            #expect(try refused.refusalBody().contains("The server is full"))
            #expect(try RawWebSocket.http(port: port, path: "/", source: "127.0.0.5").status == 503)
            #expect(try onLoop(server) { server.counters.refusedOverTotal } == 2)
            // The admitted ones are unaffected.
            try open[0].0.sendText("still")
            #expect(try open[0].0.readText() == "still")
        }
    }

    @Test func farPastTheCapNewConnectionsAreClosedAtOnceAndTheServerStaysUp() throws {
        // Direct peers: loopback is a trusted proxy by default, whose clients are known only
        // once their headers arrive, so only the total cap could close its sockets at accept.
        try withServer(configure: { $0.maxConnectionsPerAddress = 1; $0.trustedProxies = .none }) { server, _, port in
            let admitted = try RawWebSocket.open(port: port).0
            // 8 more are answered politely once they ask (the headroom); they ask nothing.
            let waiting = try (0..<8).map { _ in try RawWebSocket.connect(port: port) }
            #expect(eventually { (try? onLoop(server) { server.counters.openSockets }) == 9 })
            let dropped = try RawWebSocket.connect(port: port)
            #expect(try dropped.waitForEOF(timeout: 3))
            #expect(try onLoop(server) { server.counters.droppedAtAccept } >= 1)
            // Another address still gets in, and the admitted client still works.
            #expect(try RawWebSocket.http(port: port, path: "/healthz", source: "127.0.0.2").status == 200)
            try admitted.sendText("ok")
            #expect(try admitted.readText() == "ok")
            _ = waiting
        }
    }

    // MARK: Timeouts

    @Test func aClientThatSendsNothingIsDroppedAfterTheRequestHeadTimeout() throws {
        try withServer(configure: { $0.requestHeadTimeoutSeconds = 2 }) { server, _, port in
            let silent = try RawWebSocket.connect(port: port)
            let start = RawWebSocket.now()
            #expect(try silent.waitForEOF(timeout: 6))
            let elapsed = RawWebSocket.now() - start
            #expect(elapsed >= 1.5 && elapsed < 4, "dropped after \(elapsed) s")
            #expect(eventually { (try? onLoop(server) { server.counters.openSockets }) == 0 })
        }
    }

    @Test func halfARequestHeadIsDroppedAfterTheTimeoutEvenIfItTrickles() throws {
        try withServer(configure: { $0.requestHeadTimeoutSeconds = 2 }) { _, _, port in
            let half = try RawWebSocket.connect(port: port)
            try half.write(Array("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8))
            let trickle = try RawWebSocket.connect(port: port)
            try trickle.write(Array("GET / HTTP/1.1\r\n".utf8))
            let start = RawWebSocket.now()
            var droppedAfter: Double?
            // One more header line every 300 ms (slowloris): the deadline is for the whole head.
            for index in 0..<25 {
                if (try? trickle.write(Array("X-Slow-\(index): 1\r\n".utf8))) == nil { break }
                if case .end = try trickle.poll(timeout: 0.3) {
                    droppedAfter = RawWebSocket.now() - start
                    break
                }
            }
            let trickled = try #require(droppedAfter)
            #expect(trickled >= 1.5 && trickled < 4, "trickling client dropped after \(trickled) s")
            #expect(try half.waitForEOF(timeout: 3))
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws {
        try withServer(configure: { $0.httpIdleTimeoutSeconds = 2 }) { _, _, port in
            let client = try RawWebSocket.connect(port: port)
            #expect(try client.get("/healthz", port: port).status == 200)
            #expect(try client.get("/", port: port).status == 200)  // kept alive between requests
            let start = RawWebSocket.now()
            #expect(try client.waitForEOF(timeout: 6))
            let elapsed = RawWebSocket.now() - start
            #expect(elapsed >= 1.5 && elapsed < 4, "closed after \(elapsed) s")
        }
    }

    @Test func theDefaultTimeoutsAreSane() {
        let options = TransportOptions()
        #expect(options.requestHeadTimeoutSeconds == 10)
        #expect(options.httpIdleTimeoutSeconds == 5)
        #expect(options.maxConnections == 20000)
        #expect(options.maxConnectionsPerAddress == 500)
        #expect(options.allowedOrigins.isEmpty && options.tls == nil && !options.echoConformance)
    }

    // MARK: Slow readers

    @Test func aClientThatNeverReadsIsCutOffWhileOthersKeepReceivingAndMemoryStaysBounded() throws {
        let limit = 256 << 10
        try withServer(outboundQueueLimitBytes: limit) { server, handler, port in
            // A tiny receive buffer, never read: the server's queue for it can only grow.
            let (slow, _) = try RawWebSocket.open(port: port, receiveBuffer: 4096)
            let (fast, _) = try RawWebSocket.open(port: port)
            #expect(eventually { handler.opened.count == 2 })
            let slowID = handler.opened[0].id
            var received = 0
            var highestQueued = 0
            let rounds = 120
            for _ in 0..<rounds {
                try fast.sendText("broadcast:100:1000")  // 100 KB to every connection
                var events = 0
                while events < 100, let text = try fast.readText() {
                    events += text.split(separator: "\n").count
                }
                received += events
                let counters = try onLoop(server) { server.counters }
                highestQueued = max(highestQueued, counters.queuedBytes)
            }
            #expect(received == rounds * 100)  // the fast client missed nothing
            #expect(highestQueued <= limit + 1000)  // never more than the limit and one event
            let counters = try onLoop(server) { server.counters }
            #expect(counters.closedTooSlow == 1)
            #expect(eventually { handler.closed.contains(slowID) })
            #expect(counters.queuedBytes <= limit)
            try fast.sendText("still here")
            #expect(try fast.readText() == "still here")
            _ = slow
        }
    }
}
