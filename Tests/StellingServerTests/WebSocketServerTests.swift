import Foundation
import StellingCore
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// The real transport on 127.0.0.1, port 0, driven by a raw socket client. Serialized: each
/// test blocks on sockets, and the machine has two cores.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct WebSocketServerTests {
    typealias Opcode = RawWebSocket.Opcode

    // MARK: HTTP

    @Test func healthzIsAnsweredByTheHandler() throws {
        try withServer { _, _, port in
            let response = try RawWebSocket.http(port: port, path: "/healthz")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"status\":\"ok\"}")
        }
    }

    @Test func exportsSeeTheAuthorizationHeaderAndTheQuery() throws {
        try withServer { _, _, port in
            let refused = try RawWebSocket.http(port: port, path: "/export/votes.csv")
            #expect(refused.status == 401)
            #expect(refused.headers["www-authenticate"] == "Bearer")
            let allowed = try RawWebSocket.http(port: port, path: "/export/votes.csv?a=1&b=two",
                                                headers: ["Authorization": "Bearer secret"])
            #expect(allowed.status == 200)
            #expect(String(decoding: allowed.body, as: UTF8.self) == "export votes.csv query=a=1&b=two\n")
        }
    }

    @Test(arguments: [
        ("/", "<h1>participant</h1>", "text/html; charset=utf-8"),
        ("/moderator", "<h1>moderator</h1>", "text/html; charset=utf-8"),
        ("/screen", "<h1>screen</h1>", "text/html; charset=utf-8"),
        ("/app.js", "export const x = 1;", "text/javascript; charset=utf-8"),
        ("/style.css", "body { margin: 0 }", "text/css; charset=utf-8"),
        ("/icons/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "image/svg+xml"),
    ])
    func staticFilesAreServedWithTheirContentType(path: String, body: String, contentType: String) throws {
        try withServer { _, _, port in
            let response = try RawWebSocket.http(port: port, path: path)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == contentType)
            #expect(String(decoding: response.body, as: UTF8.self) == body)
        }
    }

    @Test(arguments: ["/missing.html", "/.secret", "/icons/../.secret", "/ws"])
    func unknownOrHiddenPathsGet404(path: String) throws {
        try withServer { _, _, port in
            let response = try RawWebSocket.http(port: port, path: path)
            #expect(response.status == 404)
        }
    }

    @Test func aLargeBodyArrivesWholeAndHeadSendsOnlyItsLength() throws {
        try withServer { _, _, port in
            let response = try RawWebSocket.http(port: port, path: "/big")
            #expect(response.status == 200)
            #expect(response.headers["content-length"] == "100000")
            #expect(response.body == (0..<100_000).map { UInt8($0 % 251) })
            let head = try RawWebSocket.http(port: port, method: "HEAD", path: "/big")
            #expect(head.status == 200)
            #expect(head.headers["content-length"] == "100000")
        }
    }

    // MARK: Upgrade

    @Test func upgradeWithTheSubprotocolReachesTheHandler() throws {
        try withServer { _, handler, port in
            let (client, status) = try RawWebSocket.open(port: port, origin: "http://127.0.0.1:\(port)")
            #expect(status == 101)
            #expect(client.handshakeHeaders["sec-websocket-protocol"] == "stelling.v1")
            try client.sendText("hello")
            #expect(try client.readText() == "hello")
            #expect(handler.messages == ["hello"])
            #expect(handler.opened.count == 1)
            #expect(handler.opened.first?.origin == "http://127.0.0.1:\(port)")
            #expect(handler.opened.first?.peer == "127.0.0.1")
        }
    }

    @Test func permessageDeflateIsNotNegotiated() throws {
        // PROTOCOL.md: it costs memory per connection and defeats encode-once fan-out.
        try withServer { _, _, port in
            let (client, status) = try RawWebSocket.open(port: port, extensions: "permessage-deflate; client_max_window_bits")
            #expect(status == 101)
            #expect(client.handshakeHeaders["sec-websocket-extensions"] == nil)
            try client.sendText("plain")
            #expect(try client.readText() == "plain")
        }
    }

    @Test func upgradeWithoutASubprotocolBindsToStellingToo() throws {
        try withServer { _, handler, port in
            let (client, status) = try RawWebSocket.open(port: port, subprotocols: nil)
            #expect(status == 101)
            try client.sendText("plain")
            #expect(try client.readText() == "plain")
            #expect(handler.messages == ["plain"])
        }
    }

    @Test func upgradesElsewhereOrToAnotherSubprotocolAreRefused() throws {
        try withServer { _, handler, port in
            // lws answers a refused upgrade by closing the connection (or with an error status).
            for (path, subprotocols) in [("/other", ["stelling.v1"]), ("/ws", ["chat.v9"]), ("/ws", ["http"])] {
                #expect(throws: (any Error).self) {
                    let (_, status) = try RawWebSocket.open(port: port, path: path, subprotocols: subprotocols)
                    if status != 101 { throw RawWebSocket.Failure(description: "refused with \(status)") }
                }
            }
            #expect(handler.opened.isEmpty)
        }
    }

    @Test func closingTheConnectionTellsTheHandler() throws {
        try withServer { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("whoami")
            let id = try #require(try client.readText())
            try client.sendClose()
            _ = try client.readClose()
            #expect(eventually { handler.closed.map(\.description) == [id] })
        }
    }

    // MARK: Receiving

    @Test func aFragmentedMessageIsReassembled() throws {
        try withServer { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendFrame(opcode: Opcode.text, Array("frag".utf8), fin: false)
            try client.sendFrame(opcode: Opcode.ping, Array("p".utf8))  // control frames may interleave
            try client.sendFrame(opcode: Opcode.continuation, Array("men".utf8), fin: false)
            try client.sendFrame(opcode: Opcode.continuation, Array("ted".utf8), fin: true)
            #expect(try client.readText() == "fragmented")
            #expect(handler.messages == ["fragmented"])
        }
    }

    @Test func aMessageAtTheLimitIsAccepted() throws {
        try withServer(messageLimitBytes: 1024) { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText(String(repeating: "a", count: 1024))
            #expect(try client.readText()?.count == 1024)
            #expect(handler.messages.first?.count == 1024)
        }
    }

    @Test func aMessageOverTheLimitClosesWith1009() throws {
        try withServer(messageLimitBytes: 1024) { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText(String(repeating: "a", count: 1025))
            #expect(try client.readClose().code == 1009)
            #expect(handler.messages.isEmpty)
        }
    }

    @Test func fragmentsAddingUpOverTheLimitCloseWith1009() throws {
        try withServer(messageLimitBytes: 1024) { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            let piece = [UInt8](repeating: UInt8(ascii: "b"), count: 400)
            try client.sendFrame(opcode: Opcode.text, piece, fin: false)
            try client.sendFrame(opcode: Opcode.continuation, piece, fin: false)
            try client.sendFrame(opcode: Opcode.continuation, piece, fin: false)
            #expect(try client.readClose().code == 1009)
            #expect(handler.messages.isEmpty)
        }
    }

    @Test func aBinaryMessageClosesWith1003() throws {
        try withServer { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendFrame(opcode: Opcode.binary, [1, 2, 3])
            #expect(try client.readClose().code == 1003)
            #expect(handler.messages.isEmpty)
        }
    }

    @Test func invalidUTF8ClosesWith1007() throws {
        try withServer { _, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendFrame(opcode: Opcode.text, [0x7B, 0xC3, 0x28, 0x7D])
            #expect(try client.readClose().code == 1007)
            #expect(handler.messages.isEmpty)
        }
    }

    // MARK: Sending

    @Test func sendsQueuedInOneTurnLeaveAsOneMessageJoinedByNewlines() throws {
        try withServer { server, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("burst:one,two,three")
            let frame = try #require(try client.readFrame())
            #expect(frame.opcode == Opcode.text && frame.fin)
            #expect(frame.text == "one\ntwo\nthree")
            let counters = try onLoop(server) { server.counters }
            #expect(counters.messagesOut == 1 && counters.eventsOut == 3)
        }
    }

    @Test func aLongQueueLeavesInOrderedBatchesWithinTheBatchLimit() throws {
        try withServer { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("many:200:1000")  // 200 KB queued at once; batches hold 64 KiB
            var events: [String] = []
            var messages = 0
            while events.count < 200, let text = try client.readText() {
                messages += 1
                #expect(text.utf8.count <= 64 << 10)
                events += text.split(separator: "\n").map(String.init)
            }
            #expect(events.count == 200)
            let inOrder = events.map { $0.split(separator: ":").first.map(String.init) } == (0..<200).map { "\($0)" }
            #expect(inOrder)
            #expect(messages >= 4 && messages <= 10)
        }
    }

    @Test func aBatchLargerThanTheScratchBufferArrivesIntact() throws {
        try withServer(batchLimitBytes: 1 << 20) { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("many:200:1000")  // one 200 KB message: the write buffer grows mid-batch
            let text = try #require(try client.readText())
            let events = text.split(separator: "\n")
            #expect(events.count == 200)
            let inOrder = events.map { $0.split(separator: ":").first.map(String.init) } == (0..<200).map { "\($0)" }
            #expect(inOrder)
            #expect(events.allSatisfy { $0.utf8.count == 1000 })
        }
    }

    @Test func aNewerLatestValueReplacesThePendingOne() throws {
        try withServer { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("latest")
            #expect(try client.readText() == "event1\ntally2\npresence2")
        }
    }

    @Test func closeFlushesTheQueueThenClosesWithTheCode() throws {
        try withServer { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("close:4001")
            #expect(try client.readText() == "bye")
            let close = try client.readClose()
            #expect(close.code == 4001)
            #expect(close.reason == "bye")
        }
    }

    @Test func aQueuePastItsLimitClosesWith1008() throws {
        try withServer { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("flood")
            let close = try client.readClose()
            #expect(close.code == 1008)
            #expect(close.reason == "too slow")
        }
    }

    @Test func anActorOnTheLoopRunsOnTheServiceThreadAndMaySend() async throws {
        try await withServerAsync { server, handler, port in
            let bound = LoopBound(loop: server.loop)
            handler.onActor { bound.assumeIsolated { $0.enter() } }
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("whoami")
            let idText = try #require(try client.readText())
            let id = try #require(handler.opened.first?.id)
            #expect(id.description == idText)
            #expect(await bound.isOnServiceThread())
            await bound.send(server, to: id, "from the actor")
            #expect(try client.readText() == "from the actor")
            // A C callback entering the actor with assumeIsolated:
            try client.sendText("actor")
            #expect(try client.readText() == "entered")
            #expect(await bound.entered == 1)
        }
    }

    @Test func theTickIsCalledRepeatedly() throws {
        try withServer { _, handler, _ in
            #expect(eventually { handler.ticks >= 5 })
        }
    }

    @Test func metricsSeeTheCounters() throws {
        try withServer { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("one")
            _ = try client.readText()
            let metrics = try RawWebSocket.http(port: port, path: "/metrics")
            #expect(String(decoding: metrics.body, as: UTF8.self) == "open 1 in 1\n")
        }
    }

    // MARK: Keep-alive and shutdown

    @Test func aSilentClientIsDroppedWhileOneThatAnswersPingsStays() throws {
        try withServer(keepaliveSeconds: 2) { _, handler, port in
            let (silent, _) = try RawWebSocket.open(port: port)
            let (lively, _) = try RawWebSocket.open(port: port)
            let start = RawWebSocket.now()
            var silentDroppedAfter: Double?
            var livelyDropped = false
            var pingsToSilent = 0
            var pingsToLively = 0
            // Watch both for 4.5 s, answering pings on the lively one only.
            while RawWebSocket.now() - start < 4.5 {
                if silentDroppedAfter == nil {
                    switch try silent.poll(timeout: 0.02) {
                    case .end: silentDroppedAfter = RawWebSocket.now() - start
                    case .frame(let frame) where frame.opcode == Opcode.ping: pingsToSilent += 1
                    default: break
                    }
                }
                switch try lively.poll(timeout: 0.02) {
                case .end:
                    livelyDropped = true
                case .frame(let frame) where frame.opcode == Opcode.ping:
                    pingsToLively += 1
                    try lively.sendFrame(opcode: Opcode.pong, frame.payload)
                default:
                    break
                }
                if livelyDropped { break }
            }
            let dropped = try #require(silentDroppedAfter)
            #expect(dropped >= 1.9 && dropped < 3.0)
            #expect(pingsToSilent >= 1)
            #expect(!livelyDropped)
            #expect(pingsToLively >= 2)
            try lively.sendText("still here")
            #expect(try lively.readText() == "still here")
            #expect(handler.closed.count == 1)
        }
    }

    @Test func stopClosesEveryClientWith1001AndStopsListening() throws {
        let handler = try withServer { server, handler, port in
            let (first, _) = try RawWebSocket.open(port: port)
            let (second, _) = try RawWebSocket.open(port: port)
            try first.sendText("burst:a,b")
            _ = try first.readText()
            #expect(eventually { handler.opened.count == 2 })
            server.stop()
            #expect(try first.readClose().code == 1001)
            #expect(try second.readClose().code == 1001)
            #expect(server.waitUntilStopped(timeoutMilliseconds: 5000))
            #expect(throws: (any Error).self) { _ = try RawWebSocket.connect(port: port) }
            return handler
        }
        #expect(handler.closed.count == 2)
    }

    @Test func stopReturnsPromptlyWhenAClientNeverAnswersTheClose() throws {
        let handler = try withServer { server, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("hi")
            _ = try client.readText()
            let start = RawWebSocket.now()
            server.stop()  // the client reads nothing more and never answers the close
            #expect(server.waitUntilStopped(timeoutMilliseconds: 8000))
            #expect(RawWebSocket.now() - start < 1.5)
            return handler
        }
        #expect(handler.closed.count == 1)
    }

    @Test func stopGivesUpOnAFlushThatCannotFinishAfterTheGrace() throws {
        let handler = try withServer(outboundQueueLimitBytes: 64 << 20) { server, handler, port in
            let (client, _) = try RawWebSocket.open(port: port)
            try client.sendText("many:20000:1000")  // 20 MB that this client never reads
            #expect(eventually { handler.messages.count == 1 })
            let start = RawWebSocket.now()
            server.stop()
            #expect(server.waitUntilStopped(timeoutMilliseconds: 8000))
            let elapsed = RawWebSocket.now() - start
            #expect(elapsed >= 1.9 && elapsed < 4)  // the test server's grace is 2 s
            _ = client
            return handler
        }
        #expect(handler.closed.count == 1)
    }
}

/// Runs `body` on the service thread and waits for its result.
func onLoop<T: Sendable>(_ server: WebSocketServer, _ body: @escaping @Sendable () -> T) throws -> T {
    let box = ResultBox<T>()
    server.loop.execute { box.set(body()) }
    guard eventually({ box.value != nil }), let value = box.value else {
        throw RawWebSocket.Failure(description: "the loop did not run the closure")
    }
    return value
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? { lock.withLock { stored } }
    func set(_ value: T) { lock.withLock { stored = value } }
}

/// `withServer` for async test bodies.
func withServerAsync(
    _ body: (WebSocketServer, EchoHandler, Int) async throws -> Void
) async throws {
    let (server, handler, root) = try startServer()
    do {
        try await body(server, handler, server.boundPort)
    } catch {
        server.stop()
        server.waitUntilStopped(timeoutMilliseconds: 10_000)
        try? FileManager.default.removeItem(atPath: root)
        throw error
    }
    server.stop()
    server.waitUntilStopped(timeoutMilliseconds: 10_000)
    try? FileManager.default.removeItem(atPath: root)
}
