import Foundation
import Testing
import StellingCore
import StellingTesting
@testable import StellingLWS

/// The client against the real server with an echo handler on 127.0.0.1.
@Suite(.timeLimit(.minutes(1)))
final class WebSocketClientPoolTests {
    let server: EchoServer
    let pool: WebSocketClientPool

    init() throws {
        server = try EchoServer { $0.echoConformance = true }
        pool = try WebSocketClientPool()
    }

    deinit {
        pool.shutdown()
        server.stop()
    }

    /// Opens a connection and waits for its handshake.
    private func openConnection(_ path: String = "/ws") throws -> ClientConnection {
        let connection = pool.connect(url: server.url(path))
        try #require(connection.waitOpen(timeout: 5))
        return connection
    }

    /// The connection's terminal event, skipping up to 10 others.
    private func endOf(_ connection: ClientConnection) -> ClientEvent? {
        for _ in 0..<10 {
            guard let event = connection.next(timeout: 5) else { return nil }
            if case .text = event { continue }
            return event
        }
        return nil
    }

    @Test func connectingNegotiatesTheOfferedSubprotocol() {
        let connection = pool.connect(url: server.url())
        #expect(connection.next(timeout: 5) == .open(subprotocol: "stelling.v1"))
    }

    @Test func aConnectionThatOffersNoSubprotocolOpensWithoutOne() {
        let connection = pool.connect(url: server.url(), subprotocol: nil)
        #expect(connection.next(timeout: 5) == .open(subprotocol: nil))
    }

    @Test func aTextMessageComesBack() throws {
        let connection = try openConnection()
        #expect(connection.send("{\"type\":\"chat\",\"text\":\"hallo\"}"))
        #expect(connection.next(timeout: 5) == .text("{\"type\":\"chat\",\"text\":\"hallo\"}"))
    }

    @Test func messagesSentBeforeTheHandshakeAreWrittenAfterIt() {
        let connection = pool.connect(url: server.url())
        connection.send("first")
        connection.send("second")
        #expect(connection.next(timeout: 5) == .open(subprotocol: "stelling.v1"))
        // The server may join the two echoes into one message.
        #expect(connection.nextEvent(timeout: 5) == "first")
        #expect(connection.nextEvent(timeout: 5) == "second")
    }

    @Test func aBatchedServerMessageIsReadAsSeparateEvents() throws {
        let connection = try openConnection()
        connection.send("batch")
        #expect(connection.nextEvent(timeout: 5) == "{\"a\":1}")
        #expect(connection.nextEvent(timeout: 5) == "{\"b\":2}")
        // A barrier instead of a waiting window: the echo of a later message comes next, so
        // nothing else arrived in between.
        connection.send("barrier")
        #expect(connection.nextEvent(timeout: 5) == "barrier")
    }

    @Test func aFragmentedMessageReachesTheServerAsOneMessageInSeveralFrames() throws {
        let connection = try openConnection()
        // "é" is split between two frames: only the whole message must be valid UTF-8.
        connection.sendFragmented([Array("{\"text\":\"caf".utf8), [0xC3], [0xA9, UInt8(ascii: "\""), UInt8(ascii: "}")]])
        #expect(connection.next(timeout: 5) == .text("{\"text\":\"café\"}"))
        #expect(server.messages.last == "{\"text\":\"café\"}")
    }

    @Test func aServerMessageThatArrivesInManyPiecesIsReassembled() throws {
        // 300 KB arrive in many reads, so lws hands them over in many pieces.
        let connection = try openConnection()
        connection.send("big:300000")
        #expect(connection.next(timeout: 10) == .text(String(repeating: "x", count: 300_000)))
    }

    @Test func aBinaryServerMessageIsReportedAsBinary() throws {
        let connection = try openConnection("/echo")
        connection.send(bytes: [1, 2, 3], binary: true)
        #expect(connection.next(timeout: 5) == .binary([1, 2, 3]))
    }

    @Test(arguments: [CloseCode.normal, 1008, 4001])
    func theCloseCodeTheServerSentIsReported(code: CloseCode) throws {
        let connection = try openConnection()
        connection.send("close:\(code)")
        #expect(connection.next(timeout: 5) == .text("bye"))
        #expect(connection.next(timeout: 5) == .closed(code: code, reason: "bye"))
        #expect(!connection.send("too late"))
    }

    @Test func closingFromTheClientSendsQueuedMessagesThenTheCloseCode() throws {
        let connection = try openConnection()
        connection.send("last words")
        connection.close(code: 4100)
        #expect(!connection.send("too late"))
        // The echo may or may not arrive before the server answers the close.
        guard case .closed = endOf(connection) else {
            Issue.record("expected .closed")
            return
        }
        #expect(server.messages == ["last words"])
        #expect(server.receivedCloseCodes == [4100])
    }

    @Test func nextEventStopsAtTheEndOfTheConnection() throws {
        let connection = try openConnection()
        connection.send("close:4002")
        #expect(connection.nextEvent(timeout: 5) == "bye")
        let started = Date()
        #expect(connection.nextEvent(timeout: 5) == nil)
        #expect(Date().timeIntervalSince(started) < 4)
        #expect(connection.next(timeout: 1) == .closed(code: 4002, reason: "bye"))
    }

    @Test func twoHundredConnectionsOnOnePoolAllOpenAndRoundTrip() throws {
        let connections = (0..<200).map { _ in pool.connect(url: server.url()) }
        for connection in connections {
            try #require(connection.waitOpen(timeout: 10))
        }
        for (index, connection) in connections.enumerated() {
            connection.send("{\"n\":\(index)}")
        }
        for (index, connection) in connections.enumerated() {
            #expect(connection.next(timeout: 10) == .text("{\"n\":\(index)}"))
        }
    }

    @Test func connectingToAClosedPortFails() throws {
        let closed = try EchoServer()
        let url = closed.url()
        closed.stop()
        let connection = pool.connect(url: url)
        guard case .failed = connection.next(timeout: 10) else {
            Issue.record("expected .failed")
            return
        }
        #expect(!connection.waitOpen(timeout: 0.1))
    }

    @Test func aRefusedUpgradeReportsTheHTTPStatus() {
        let connection = pool.connect(url: server.url(), origin: "https://elsewhere.example")
        let event = connection.next(timeout: 5)
        guard case .failed(let message) = event else {
            Issue.record("expected .failed, got \(String(describing: event))")
            return
        }
        #expect(message.contains("403"))
    }

    @Test func anUnsupportedURLFailsAtOnce() {
        let connection = pool.connect(url: "https://127.0.0.1:1/ws")
        #expect(connection.next(timeout: 1) == .failed("unsupported URL: https://127.0.0.1:1/ws"))
    }

    @Test func theSourceAddressIsTheOneTheServerSees() throws {
        let connection = pool.connect(url: server.url(), sourceAddress: "127.0.0.2")
        try #require(connection.waitOpen(timeout: 5))
        connection.send("peer")
        #expect(connection.next(timeout: 5) == .text("127.0.0.2"))
    }

    @Test func inCallbackModeTextGoesToTheCallbackNotTheInbox() throws {
        let received = Collected<String>()
        let connection = pool.connect(url: server.url(), onText: { received.append($0) })
        try #require(connection.waitOpen(timeout: 5))
        connection.send("batch")
        #expect(received.wait(count: 1, timeout: 5) == ["{\"a\":1}\n{\"b\":2}"])
        // Barrier: once the echo of a later message reached the callback, the inbox would
        // already hold any text that went astray.
        connection.send("barrier")
        #expect(received.wait(count: 2, timeout: 5).last == "barrier")
        #expect(connection.next(timeout: 0) == nil)
    }

    @Test func aMessageOverTheLimitClosesTheConnection() throws {
        let small = try WebSocketClientPool(maxMessageBytes: 1000)
        defer { small.shutdown() }
        let connection = small.connect(url: server.url())
        try #require(connection.waitOpen(timeout: 5))
        connection.send("big:999")
        #expect(connection.next(timeout: 5) == .text(String(repeating: "x", count: 999)))
        connection.send("big:1001")
        guard case .closed = connection.next(timeout: 5) else {
            Issue.record("expected .closed")
            return
        }
        #expect(server.receivedCloseCodes == [1009])
    }

    @Test func shuttingDownClosesConnectionsAndRefusesNewOnes() throws {
        let connection = try openConnection()
        pool.shutdown()
        #expect(connection.next(timeout: 5) == .closed(code: nil, reason: "the pool is shut down"))
        #expect(pool.connect(url: server.url()).next(timeout: 1) == .failed("the pool is shut down"))
    }
}

/// Pools whose last reference goes away in odd places.
@Suite(.timeLimit(.minutes(1)))
struct WebSocketClientPoolLifetimeTests {
    @Test func aPoolReleasedInsideItsOwnCallbackStopsWithoutWaitingForItself() throws {
        let server = try EchoServer { $0.echoConformance = true }
        defer { server.stop() }
        let holder = PoolHolder()
        holder.pool = try WebSocketClientPool()
        let released = Collected<String>()
        let connection = holder.pool!.connect(url: server.url(), onText: { text in
            holder.pool = nil  // the last reference: deinit runs here, on the service thread
            released.append(text)
        })
        try #require(connection.waitOpen(timeout: 5))
        let started = Date()
        connection.send("bye")
        #expect(released.wait(count: 1, timeout: 5) == ["bye"])
        #expect(Date().timeIntervalSince(started) < 4)
        #expect(connection.next(timeout: 5) == .closed(code: nil, reason: "the pool is shut down"))
    }
}

/// Holds a pool so a callback can drop the last reference.
final class PoolHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: WebSocketClientPool?

    var pool: WebSocketClientPool? {
        get { lock.withLock { stored } }
        set {
            let old = lock.withLock { () -> WebSocketClientPool? in
                let old = stored
                stored = newValue
                return old
            }
            _ = old  // released here, outside the lock
        }
    }
}
