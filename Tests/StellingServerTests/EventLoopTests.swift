import StellingCore
import StellingLWS
import Testing
@testable import StellingServer
import StellingTesting

/// `event_loop`: the server on libwebsockets' own poll(2) loop and on its libev and libuv plugins
/// (a loop Stelling owns and runs one pass at a time between the executor's jobs).
@Suite(.timeLimit(.minutes(2)))
struct EventLoopTests {
    private func event(on eventLoop: EventLoop) throws -> LiveEvent {
        try LiveEvent(eventLoop: eventLoop)
    }

    @Test(arguments: EventLoop.allCases)
    func aParticipantJoinsChatsAndIsHeardOnEveryEventLoop(_ eventLoop: EventLoop) throws {
        let event = try event(on: eventLoop)
        let moderator = try event.moderator()
        let (anna, welcome) = try event.participant("Anna", group: "Rijk")
        #expect(welcome.object("you")?.string("name") == "Anna")
        #expect(welcome.object("session")?.array("statements")?.count == 3)
        anna.send(#"{"type":"chat","text":"hallo","ref":"c1"}"#)
        #expect(try anna.expect("ack").string("ref") == "c1")
        #expect(try moderator.expect("chat").object("message")?.string("text") == "hallo")
        #expect(try event.http("/healthz").status == 200)
    }

    @Test func aStopOnLibevClosesEveryWebSocketWith1001AndEnds() throws {
        let event = try event(on: .libev)
        let (anna, _) = try event.participant("Anna")
        event.server.transport.stop()
        #expect(anna.closeCode() == .some(1001))
        #expect(event.server.transport.waitUntilStopped(timeoutMilliseconds: 10_000))
    }

    /// lws 4.1.6 on libuv ends the TCP connection without the close frame (docs/DECISIONS.md),
    /// so only what was queued before the stop and the end of the server are checked here.
    @Test func aStopOnLibuvDeliversWhatWasQueuedAndEnds() throws {
        let event = try event(on: .libuv)
        let moderator = try event.moderator()
        let (anna, _) = try event.participant("Anna")
        moderator.send(#"{"type":"announce","text":"tot ziens","ref":"a"}"#)
        #expect(try moderator.expect("ack").string("ref") == "a")
        event.server.transport.stop()
        #expect(try anna.expect("announcement").string("text") == "tot ziens")
        #expect(event.server.transport.waitUntilStopped(timeoutMilliseconds: 10_000))
    }
}
