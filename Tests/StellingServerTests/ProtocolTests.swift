import Foundation
import StellingCore
import StellingLoad
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// PROTOCOL.md end to end: the real server on a loopback port, real WebSocket clients.
@Suite(.timeLimit(.minutes(2)))
struct ProtocolTests {
    @Test func aParticipantJoinsAndGetsTheWholeSnapshot() throws {
        let event = try LiveEvent()
        let moderator = try event.moderatorShowingFirstStatement()
        let client = try event.client()
        client.send(#"{"type":"join","name":" Anna ","group":"Gemeente","ref":"j1"}"#)
        let welcome = try client.expect("welcome")
        #expect(welcome.string("ref") == "j1")
        #expect((welcome.string("resume")?.count ?? 0) >= 43)
        let you = try #require(welcome.object("you"))
        #expect(you.string("name") == "Anna")
        #expect(you.string("role") == "participant")
        #expect(you.string("group") == "Gemeente")
        let session = try #require(welcome.object("session"))
        #expect(session.string("title") == "Leren samen werken aan opgaven")
        #expect(session.array("statements")?.count == 3)
        #expect(session.array("groups") == [.string("Rijk"), .string("Provincie"), .string("Gemeente")])
        #expect(session.object("current") == ["statement": .string("s1"), "voting": .string("open"), "results": .string("hidden")])
        #expect(session.int("present") == 1)
        #expect(session["tally"] == .null)
        #expect(session["announcement"] == .null)
        #expect(session.object("myVotes") == [:])
        #expect(session.array("chat") == [])
        #expect(session.array("programme")?.count == 1)
    }

    @Test func aConnectionOfferingNoSubprotocolSpeaksV1() throws {
        let event = try LiveEvent()
        let client = try event.client(subprotocol: nil)
        client.send(#"{"type":"join","name":"Bert"}"#)
        #expect(try client.expect("welcome").object("you")?.string("name") == "Bert")
    }

    @Test func aResumeTokenKeepsTheParticipantAndVotesAcrossConnections() throws {
        let event = try LiveEvent()
        let moderator = try event.moderatorShowingFirstStatement()
        let (first, welcome) = try event.participant("Anna", group: "Rijk")
        first.send(#"{"type":"vote","statement":"s1","choice":"disagree","ref":"v"}"#)
        #expect(try first.expect("ack").string("ref") == "v")
        first.connection.close()
        let token = try #require(welcome.string("resume"))
        let second = try event.client()
        second.send(object: [("type", "join"), ("name", "Someone else"), ("resume", token)])
        let again = try second.expect("welcome")
        #expect(again.object("you") == welcome.object("you"))
        #expect(again.object("session")?.object("myVotes") == ["s1": .string("disagree")])
    }

    @Test func theThreeRolesAndAWrongKey() throws {
        let event = try LiveEvent()
        let moderator = try event.client()
        moderator.send(object: [("type", "join"), ("role", "moderator"), ("key", LiveEvent.key), ("name", "Ruben")])
        let welcome = try moderator.expect("welcome")
        #expect(welcome.object("you")?.string("role") == "moderator")
        #expect(welcome["resume"] == nil)
        let screen = try event.client()
        screen.send(#"{"type":"join","role":"screen"}"#)
        #expect(try screen.expect("welcome").object("you")?.string("role") == "screen")
        let intruder = try event.client()
        intruder.send(#"{"type":"join","role":"moderator","key":"guess","ref":"k"}"#)
        let error = try intruder.expectError()
        #expect(error.code == "unauthorized")
        #expect(error.ref == "k")
        #expect(intruder.closeCode() == .some(1008))
    }

    @Test func aModeratorRunsTheWholePanelAndEveryoneSeesWhatTheyShould() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        let screen = try event.screen()
        let (anna, annaWelcome) = try event.participant("Anna", group: "Rijk")
        let (bert, _) = try event.participant("Bert")
        let annaID = try #require(annaWelcome.object("you")?.string("id"))

        // next: everyone gets the statement; the tally goes to the moderator only.
        moderator.send(#"{"type":"next","ref":"n1"}"#)
        #expect(try moderator.expect("ack", skipping: ["presence", "tally", "statement"]).string("ref") == "n1")
        for client in [screen, anna, bert] {
            #expect(try client.expect("statement").object("current")?.string("statement") == "s1")
        }
        // votes: acknowledged, counted per group in the moderator's tally.
        anna.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"a1"}"#)
        #expect(try anna.expect("ack").string("ref") == "a1")
        anna.send(#"{"type":"vote","statement":"s1","choice":"disagree","ref":"a2"}"#)
        #expect(try anna.expect("ack").string("ref") == "a2")
        bert.send(#"{"type":"vote","statement":"s1","choice":"pass","ref":"b1"}"#)
        #expect(try bert.expect("ack").string("ref") == "b1")
        var tally: JSONObject = [:]
        let deadline = Date().addingTimeInterval(5)
        while tally.int("voters") != 2, deadline.timeIntervalSinceNow > 0 {
            tally = try moderator.expect("tally", skipping: ["presence", "statement"])
        }
        #expect(tally.int("disagree") == 1)
        #expect(tally.int("pass") == 1)
        #expect(tally.int("agree") == 0)
        #expect(tally.object("groups")?.object("Rijk") == ["agree": .integer(0), "disagree": .integer(1), "pass": .integer(0)])
        #expect(tally.object("groups")?.object("Provincie") == ["agree": .integer(0), "disagree": .integer(0), "pass": .integer(0)])
        // The barrier: the moderator has the tally, so one for anna would already be queued before
        // the answer to her next request (a vote on no statement: refused, nothing changes).
        anna.send(#"{"type":"vote","statement":"none","choice":"agree","ref":"barrier"}"#)
        let (beforeBarrier, barrier) = try anna.untilAnswer("barrier")
        #expect(!beforeBarrier.contains { $0.string("type") == "tally" })
        #expect(barrier.string("code") == "unknown_statement")

        // close: the final tally to the moderator, the closed state to everyone.
        moderator.send(#"{"type":"close"}"#)
        #expect(try moderator.expect("tally", skipping: ["presence"]).int("voters") == 2)
        for client in [screen, anna, bert] {
            #expect(try client.expect("statement").object("current")?.string("voting") == "closed")
        }
        anna.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#)
        #expect(try anna.expectError().code == "voting_closed")

        // reveal: participants and screens see the tally at once.
        moderator.send(#"{"type":"reveal","visible":true}"#)
        for client in [screen, anna, bert] {
            #expect(try client.expect("statement").object("current")?.string("results") == "visible")
            #expect(try client.expect("tally", skipping: ["presence"]).int("voters") == 2)
        }

        // add: the ack carries the id, everyone gets the new list.
        moderator.send(#"{"type":"add","text":"Nieuw live","ref":"add"}"#)
        let added = try moderator.expect("ack", skipping: ["presence", "tally", "statement"])
        #expect(added.string("id") == "s4")
        #expect(try bert.expect("statement").array("statements")?.count == 4)

        // chat, hide, mute, announce.
        anna.send(#"{"type":"chat","text":"Goed punt","ref":"c"}"#)
        let ack = try anna.expect("ack", skipping: ["presence", "tally", "statement"])
        #expect(ack.int("id") == 1)
        #expect(try bert.expect("chat", skipping: ["presence", "tally", "statement"]).object("message")?.string("text") == "Goed punt")
        moderator.send(#"{"type":"hide","message":1}"#)
        #expect(try bert.expect("hidden", skipping: ["presence", "tally", "statement", "chat"]).int("message") == 1)
        // The mute's ack is the barrier: Anna's next chat comes after it.
        moderator.send(object: [("type", "mute"), ("participant", annaID), ("ref", "mute")])
        #expect(try moderator.untilAnswer("mute").answer.string("type") == "ack")
        anna.send(#"{"type":"chat","text":"nog iets","ref":"muted"}"#)
        #expect(try anna.untilAnswer("muted").answer.string("code") == "muted")
        moderator.send(#"{"type":"announce","text":"Pauze"}"#)
        #expect(try screen.expect("announcement", skipping: ["presence", "tally", "statement", "chat", "hidden"]).string("text") == "Pauze")
        moderator.send(#"{"type":"announce","text":""}"#)
        #expect(try screen.expect("announcement")["text"] == .null)

        // goto and next past the end.
        moderator.send(#"{"type":"goto","statement":"s4","ref":"goto"}"#)
        #expect(try moderator.untilAnswer("goto").answer.string("type") == "ack")
        moderator.send(#"{"type":"next","ref":"end"}"#)
        #expect(try moderator.untilAnswer("end").answer.string("code") == "no_more_statements")
        // Every record reached the store.
        #expect(event.store.waitUntilDurable(event.store.lastSequence, timeout: 5))
        #expect(try event.store.recover().contains { if case .statementAdded = $0 { true } else { false } })
    }

    @Test func everyErrorCodeArrivesOverTheWire() throws {
        var configuration = LiveEvent.configuration()
        configuration.limits.chatBurst = 1
        let event = try LiveEvent(configuration: configuration)
        let fresh = try event.client()
        fresh.send(#"{"type":"chat","text":"hi","ref":"1"}"#)
        #expect(try fresh.expectError() == ("not_joined", "1"))
        fresh.send("{not json")
        #expect(try fresh.expectError().code == "bad_request")
        fresh.send(#"{"type":"join","name":""}"#)
        #expect(try fresh.expectError().code == "invalid_name")
        fresh.send(#"{"type":"join","name":"A","group":"Nope"}"#)
        #expect(try fresh.expectError().code == "invalid_group")

        let moderator = try event.moderator()
        let (anna, _) = try event.participant()
        let screen = try event.screen()
        let cases: [(TestClient, String, String)] = [
            (anna, #"{"type":"join","name":"again"}"#, "bad_request"),
            (anna, #"{"type":"next"}"#, "forbidden"),
            (screen, #"{"type":"chat","text":"x"}"#, "forbidden"),
            (moderator, #"{"type":"close"}"#, "no_current_statement"),
            (anna, #"{"type":"vote","statement":"s9","choice":"agree"}"#, "unknown_statement"),
            (anna, #"{"type":"vote","statement":"s1","choice":"agree"}"#, "voting_closed"),
            (moderator, #"{"type":"hide","message":42}"#, "unknown_message"),
            (moderator, #"{"type":"mute","participant":"nobody"}"#, "unknown_participant"),
            (anna, "{\"type\":\"chat\",\"text\":\"\(String(repeating: "x", count: 501))\"}", "too_long"),
            (anna, #"{"type":"chat","text":"   "}"#, "empty"),
        ]
        for (client, request, code) in cases {
            client.send(request)
            #expect(try client.expectError().code == code, "\(request)")
        }
        moderator.send(#"{"type":"next"}"#)
        _ = try anna.expect("statement")
        anna.send(#"{"type":"vote","statement":"s1","choice":"maybe"}"#)
        #expect(try anna.expectError().code == "invalid_choice")
        for number in 1...3 { moderator.send("{\"type\":\"next\",\"ref\":\"n\(number)\"}") }
        _ = try moderator.untilAnswer("n3")
        moderator.send(#"{"type":"next","ref":"end"}"#)
        #expect(try moderator.untilAnswer("end").answer.string("code") == "no_more_statements")
        anna.send(#"{"type":"chat","text":"one"}"#)
        anna.send(#"{"type":"chat","text":"two"}"#)
        let rateLimited = try anna.expect("error", skipping: ["presence", "tally", "statement", "chat"])
        #expect(rateLimited.string("code") == "rate_limited")
        // Errors leave connections open: the participant still chats after a pause.
        #expect(anna.connection.send(#"{"type":"chat","text":"x","ref":"open"}"#))
    }

    @Test func joinsAreRateLimitedPerAddressBeforeTheRoomDoesAnyWork() throws {
        var configuration = LiveEvent.configuration()
        configuration.limits.joinBurst = 3
        configuration.limits.joinsPerSecond = 0.01
        let event = try LiveEvent(configuration: configuration)
        for index in 0..<3 { _ = try event.participant("P\(index)") }
        let fourth = try event.client()
        fourth.send(#"{"type":"join","name":"Four","ref":"j4"}"#)
        let refusal = try fourth.expect("error")
        #expect(refusal.string("code") == "rate_limited" && refusal.string("ref") == "j4")
        // Revision 2: a rate_limited says when to try again: here one join per 100 s.
        #expect((refusal.int("retry_after_ms") ?? 0) > 90_000)
        // Refused joins make no participant; the connection stays open and not joined.
        fourth.send(#"{"type":"chat","text":"x"}"#)
        #expect(try fourth.expectError().code == "not_joined")
        // Moderators joining from the same address are limited the same way (it is one address).
        let moderator = try event.client()
        moderator.send(object: [("type", "join"), ("role", "moderator"), ("key", LiveEvent.key), ("ref", "m")])
        #expect(try moderator.expectError() == ("rate_limited", "m"))
    }

    @Test func quietClientsThatAnswerPingsStayConnected() throws {
        // Browsers and the libwebsockets client answer pings with the same payload; with UTF-8
        // validation on, lws checks that payload too, so it must be UTF-8 (it once was raw bytes
        // of a timestamp, and quiet participants were dropped with 1007 "bad utf8").
        let event = try LiveEvent(keepaliveSeconds: 2)
        var clients: [TestClient] = []
        for index in 0..<20 { clients.append(try event.participant("Quiet \(index)").0) }
        Thread.sleep(forTimeInterval: 6) // several ping rounds (a ping after 1 s of silence)
        for (index, client) in clients.enumerated() {
            client.send("{\"type\":\"chat\",\"text\":\"still here \(index)\",\"ref\":\"r\(index)\"}")
            #expect(try client.expect("ack", skipping: ["presence", "tally", "chat"]).string("ref") == "r\(index)")
        }
    }

    @Test func aMalformedMessageKeepsTheConnectionOpen() throws {
        let event = try LiveEvent()
        let client = try event.client()
        for bad in ["[]", "\"x\"", "{\"type\":\"dance\"}", "{}", "nul"] {
            client.send(bad)
            #expect(try client.expectError().code == "bad_request")
        }
        client.send(#"{"type":"join","name":"Still here"}"#)
        #expect(try client.expect("welcome").object("you")?.string("name") == "Still here")
    }

    @Test(arguments: [("binary", CloseCode.unsupportedData), ("utf8", 1007), ("big", .messageTooBig)])
    func transportViolationsCloseWithTheirCodes(kind: String, code: CloseCode) throws {
        var configuration = LiveEvent.configuration()
        configuration.limits.messageBytes = 1024
        let event = try LiveEvent(configuration: configuration)
        let (client, _) = try event.participant()
        switch kind {
        case "binary": client.connection.send(bytes: [1, 2, 3], binary: true)
        case "utf8": client.connection.send(bytes: [0x7B, 0xC3, 0x28, 0x7D], binary: false)
        default: client.send("{\"type\":\"chat\",\"text\":\"\(String(repeating: "x", count: 2000))\"}")
        }
        #expect(client.closeCode() == .some(code))
    }

    @Test func aFragmentedRequestIsReassembled() throws {
        let event = try LiveEvent()
        let client = try event.client()
        let parts = [#"{"type":"join","#, #""name":"Fr"#, #"agment"}"#].map { Array($0.utf8) }
        client.connection.sendFragmented(parts)
        #expect(try client.expect("welcome").object("you")?.string("name") == "Fragment")
    }

    @Test func eventsQueuedTogetherLeaveAsOneMessageJoinedByNewlines() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        moderator.send(#"{"type":"next","ref":"n"}"#)
        // ack, statement and tally are made in one turn: one WebSocket message.
        var raw: String?
        let deadline = Date().addingTimeInterval(5)
        while raw == nil, deadline.timeIntervalSinceNow > 0 {
            if case let .text(text)? = moderator.connection.next(timeout: 1), text.contains("\"ack\"") { raw = text }
        }
        let lines = try #require(raw).split(separator: "\n")
        #expect(lines.count >= 3)
        #expect(lines.first?.contains("\"type\":\"ack\"") == true)
    }

    @Test func presenceCountsParticipantsOnce() throws {
        let event = try LiveEvent()
        let screen = try event.screen()
        let (_, welcome) = try event.participant("Anna")
        let token = try #require(welcome.string("resume"))
        let twin = try event.client()
        twin.send(object: [("type", "join"), ("resume", token)])
        _ = try twin.expect("welcome")
        _ = try event.participant("Bert")
        var present: Int?
        let deadline = Date().addingTimeInterval(5)
        while present != 2, deadline.timeIntervalSinceNow > 0 {
            present = screen.next(timeout: 1)?.int("present") ?? present
        }
        #expect(present == 2)
    }

    @Test func healthMetricsAndPagesAnswerOverHTTP() throws {
        let event = try LiveEvent()
        let (anna, _) = try event.participant()
        anna.send(#"{"type":"chat","text":"x","ref":"c"}"#)
        _ = try anna.expect("ack")
        let health = try event.http("/healthz")
        #expect(health.status == 200)
        #expect(String(decoding: health.body, as: UTF8.self) == #"{"status":"ok"}"#)
        let metrics = String(decoding: try event.http("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("stelling_connections 1"))
        #expect(metrics.contains("stelling_chat_messages_total 1"))
        #expect(metrics.contains(#"stelling_joined{role="participant"} 1"#))
        #expect(metrics.contains(#"stelling_errors_total{code="not_joined"} 0"#))
        let info = try event.http("/event.json")
        #expect(JSONValue.parse(info.body).flatMap { if case let .object(object) = $0 { object.string("title") } else { nil } } == "Leren samen werken aan opgaven")
    }

    @Test func aThousandJoinedClientsAllReceiveOneBroadcast() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        let count = 1000
        var clients: [TestClient] = []
        for index in 0..<count {
            let connection = event.pool.connect(url: event.url)
            connection.send("{\"type\":\"join\",\"name\":\"P\(index)\"}")
            clients.append(TestClient(connection))
        }
        for client in clients { _ = try client.expect("welcome", timeout: 30) }
        moderator.send(#"{"type":"announce","text":"Iedereen welkom"}"#)
        var received = 0
        for client in clients {
            if (try? client.expect("announcement", timeout: 10))?.string("text") == "Iedereen welkom" { received += 1 }
        }
        #expect(received == count)
    }
}

/// Tallies that must not be coalesced away (issue 11, §7).
@Suite(.timeLimit(.minutes(1)))
struct ClosingTallyTests {
    @Test(arguments: [#"{"type":"next"}"#, #"{"type":"goto","statement":"s3"}"#])
    func leavingAStatementDeliversItsClosingTallyWithTheLastVotes(leave: String) throws {
        var configuration = LiveEvent.configuration()
        configuration.tallyIntervalMilliseconds = 10_000  // no periodic tally in between
        let event = try LiveEvent(configuration: configuration)
        let moderator = try event.moderatorShowingFirstStatement()
        let (anna, _) = try event.participant("Anna")
        let (bert, _) = try event.participant("Bert")
        anna.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"a"}"#)
        _ = try anna.expect("ack")
        bert.send(#"{"type":"vote","statement":"s1","choice":"disagree","ref":"b"}"#)
        _ = try bert.expect("ack")
        // Two barriers: the leave's own answer, then a chat's ack (effects keep the room's order,
        // so a closing tally made by the leave arrives before it).
        moderator.send(String(leave.dropLast()) + #","ref":"leave"}"#)
        let (beforeLeave, answer) = try moderator.untilAnswer("leave")
        #expect(answer.string("type") == "ack")
        moderator.send(#"{"type":"chat","text":"barrière","ref":"barrier"}"#)
        let events = beforeLeave + (try moderator.untilAnswer("barrier").before)
        let closing = events.last { $0["type"] == .string("tally") && $0.string("statement") == "s1" }
        #expect(closing?.int("voters") == 2)
        #expect(closing?.int("agree") == 1)
        #expect(closing?.int("disagree") == 1)
    }
}
