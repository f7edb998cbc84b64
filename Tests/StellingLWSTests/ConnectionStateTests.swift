import StellingCore
import Testing
@testable import StellingLWS

/// A connection's next write, decided without a socket.
@Suite struct ConnectionStateTests {
    private let keepalive = Keepalive(keepaliveSeconds: 10)

    @Test func anIdleConnectionWritesNothing() {
        var state = ConnectionState(now: 0)
        #expect(state.nextWrite() == .nothing)
        #expect(!state.hasMoreToWrite)
    }

    @Test func queuedEventsLeaveAsOneBatchThenTheCloseFollows() {
        var state = ConnectionState(now: 0)
        state.outbound.append(Array("a".utf8))
        state.outbound.append(Array("b".utf8))
        state.requestClose(.goingAway, reason: "server shutting down")
        #expect(!state.acceptsEvents)
        #expect(state.nextWrite() == .batch)
        var taken: [[UInt8]] = []
        state.outbound.takeBatch(maxBytes: 100) { taken.append($0) }
        #expect(taken == [Array("a".utf8), Array("b".utf8)])
        #expect(state.hasMoreToWrite)
        #expect(state.nextWrite() == .close(.goingAway, reason: "server shutting down"))
    }

    @Test func aDuePingGoesBeforeQueuedEvents() {
        var state = ConnectionState(now: 0)
        state.outbound.append(Array("a".utf8))
        #expect(state.sweep(keepalive, now: 5_000) == .ping)
        #expect(state.nextWrite() == .ping)
        #expect(state.nextWrite() == .batch)
    }

    @Test func aQuietConnectionIsPingedOnceAndDroppedLaterAndThenWritesNothing() {
        var state = ConnectionState(now: 0)
        #expect(state.sweep(keepalive, now: 4_999) == .none)
        #expect(state.sweep(keepalive, now: 5_000) == .ping)
        #expect(state.sweep(keepalive, now: 6_000) == .none)
        state.received(at: 6_500)
        #expect(state.sweep(keepalive, now: 11_500) == .ping)
        #expect(state.sweep(keepalive, now: 16_500) == .drop)
        #expect(!state.acceptsEvents)
        #expect(state.nextWrite() == .nothing)
        #expect(state.sweep(keepalive, now: 30_000) == .none)
    }

    @Test func echoesGoBackOneByOneAndAreCounted() {
        var state = ConnectionState(now: 0)
        state.queueEcho([1, 2], binary: true)
        state.queueEcho(Array("x".utf8), binary: false)
        #expect(state.queuedBytes == 3)
        #expect(state.nextWrite() == .echo([1, 2], binary: true))
        #expect(state.queuedBytes == 1)
        #expect(state.nextWrite() == .echo(Array("x".utf8), binary: false))
        #expect(state.nextWrite() == .nothing)
    }

    @Test func droppingTheQueuesLeavesOnlyTheClose() {
        var state = ConnectionState(now: 0)
        state.outbound.append(Array("a".utf8))
        state.queueEcho([1], binary: true)
        state.dropQueues()
        state.requestClose(.policyViolation, reason: "too slow")
        #expect(state.queuedBytes == 0)
        #expect(state.nextWrite() == .close(.policyViolation, reason: "too slow"))
    }

    @Test func aPingCarriesEightASCIIDigits() {
        #expect(WebSocketServer.pingPayload(1_234_567_890_123) == Array("67890123".utf8))
        #expect(WebSocketServer.pingPayload(42) == Array("00000042".utf8))
    }
}
