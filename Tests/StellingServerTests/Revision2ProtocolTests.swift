import Foundation
import StellingCore
import StellingLoad
import StellingStore
import Testing
@testable import StellingServer
import StellingLWS
import StellingTesting

extension TestClient {
    /// The next event of `type` (that matches `predicate`), skipping every other event.
    func find(_ type: String, timeout: Double = 10, where predicate: (JSONObject) -> Bool = { _ in true }) throws -> JSONObject {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, let event = next(timeout: remaining) else { throw TestFailure("no matching \(type) within \(timeout) s") }
            if event.string("type") == type, predicate(event) { return event }
        }
    }

    /// The answer (ack or error) to the request with `ref`, skipping every other event.
    func answer(_ ref: String, timeout: Double = 10) throws -> JSONObject {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, let event = next(timeout: remaining) else { throw TestFailure("no answer to \(ref)") }
            if ["ack", "error"].contains(event.string("type") ?? ""), event.string("ref") == ref { return event }
        }
    }
}

/// PROTOCOL.md "Revision 2" end to end: the real server on a loopback port, real WebSocket clients.
@Suite(.timeLimit(.minutes(2)))
struct Revision2ProtocolTests {
    @Test func theWelcomeCarriesFeaturesChatModeQuestionsAndMyUpvotes() throws {
        let event = try LiveEvent()
        let (_, welcome) = try event.participant("Anna")
        #expect(welcome.array("features") == [.string("chat_mode"), .string("questions")])
        let session = try #require(welcome.object("session"))
        #expect(session.object("chatMode") == ["mode": .string("open")])
        #expect(session.array("questions") == [])
        #expect(session["questionsOpen"] == .bool(true))
        #expect(session.array("myUpvotes") == [])
        let moderator = try event.client()
        moderator.send(object: [("type", "join"), ("role", "moderator"), ("key", LiveEvent.key)])
        let moderatorSession = try #require(try moderator.expect("welcome").object("session"))
        #expect(moderatorSession["myUpvotes"] == nil)
        #expect(moderatorSession["questionsOpen"] == .bool(true))
    }

    @Test func chatModesReachEveryoneAndBindParticipantsOnly() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        let (anna, _) = try event.participant("Anna")
        let screen = try event.screen()
        moderator.send(#"{"type":"chat_mode","mode":"slow","seconds":4,"ref":"bad"}"#)
        #expect(try moderator.answer("bad").string("code") == "bad_request")
        moderator.send(#"{"type":"chat_mode","mode":"slow","seconds":5,"ref":"slow"}"#)
        #expect(try moderator.answer("slow").string("type") == "ack")
        for client in [anna, screen, moderator] {
            #expect(try client.find("chat_mode") == ["type": .string("chat_mode"), "mode": .string("slow"), "seconds": .integer(5)])
        }
        anna.send(#"{"type":"chat","text":"een","ref":"c1"}"#)
        #expect(try anna.answer("c1").string("type") == "ack")
        anna.send(#"{"type":"chat","text":"twee","ref":"c2"}"#)
        let refused = try anna.answer("c2")
        #expect(refused.string("code") == "rate_limited")
        let retry = try #require(refused.int("retry_after_ms"))
        #expect(retry > 0 && retry <= 5000)
        // A late joiner learns the mode from its welcome.
        let (_, late) = try event.participant("Late")
        #expect(late.object("session")?.object("chatMode") == ["mode": .string("slow"), "seconds": .integer(5)])

        moderator.send(#"{"type":"chat_mode","mode":"closed","ref":"closed"}"#)
        #expect(try moderator.answer("closed").string("type") == "ack")
        #expect(try anna.find("chat_mode") == ["type": .string("chat_mode"), "mode": .string("closed")])
        anna.send(#"{"type":"chat","text":"drie","ref":"c3"}"#)
        #expect(try anna.answer("c3").string("code") == "chat_closed")
        moderator.send(#"{"type":"chat","text":"De moderator mag","ref":"m"}"#)
        #expect(try moderator.answer("m").string("type") == "ack")
        #expect(try anna.find("chat").object("message")?.string("text") == "De moderator mag")
        anna.send(#"{"type":"chat_mode","mode":"open","ref":"x"}"#)
        #expect(try anna.answer("x").string("code") == "forbidden")
    }

    @Test func questionsAreSeenAsEachRoleMaySeeThem() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        let (anna, annaWelcome) = try event.participant("Anna")
        let (bob, _) = try event.participant("Bob")
        let screen = try event.screen()
        let annaID = try #require(annaWelcome.object("you")?.string("id"))

        anna.send(#"{"type":"ask","text":"Wie betaalt?","anonymous":true,"ref":"a"}"#)
        let ack = try anna.answer("a")
        #expect(ack.string("type") == "ack")
        #expect(ack.string("id") == "q1")
        let asker: JSONValue = .object(["id": .string(annaID), "name": .string("Anna")])
        #expect(try moderator.find("question").object("question")?["from"] == asker)
        #expect(try anna.find("question").object("question")?["from"] == asker)
        let seenByBob = try #require(try bob.find("question").object("question"))
        #expect(seenByBob["from"] == .null)
        #expect(seenByBob.string("text") == "Wie betaalt?")
        #expect(seenByBob.string("state") == "open")
        #expect(seenByBob.int("upvotes") == 0)
        #expect(try screen.find("question").object("question")?["from"] == .null)

        // Upvotes: acknowledged, counted once, own forbidden, paced counts to everyone.
        bob.send(#"{"type":"upvote","question":"q1","ref":"u"}"#)
        #expect(try bob.answer("u").string("type") == "ack")
        anna.send(#"{"type":"upvote","question":"q1","ref":"own"}"#)
        // The paced upvotes event may reach Anna before this answer: keep what came before it.
        let (beforeOwn, own) = try anna.untilAnswer("own")
        #expect(own.string("code") == "forbidden")
        bob.send(#"{"type":"upvote","question":"q9","ref":"unknown"}"#)
        #expect(try bob.answer("unknown").string("code") == "unknown_question")
        let metrics = String(decoding: try event.http("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("stelling_questions_total 1"))
        #expect(metrics.contains("stelling_upvotes_total 1"))
        for client in [screen, moderator] {
            #expect(try client.find("upvotes").object("counts") == ["q1": .integer(1)])
        }
        let annaCounts = try beforeOwn.first { $0.string("type") == "upvotes" } ?? anna.find("upvotes")
        #expect(annaCounts.object("counts") == ["q1": .integer(1)])

        // Live, then answered by the next live one; upvotes on answered are closed.
        bob.send(#"{"type":"ask","text":"En wanneer?","ref":"b"}"#)
        #expect(try bob.answer("b").string("id") == "q2")
        moderator.send(#"{"type":"question_state","question":"q1","state":"live","ref":"l1"}"#)
        #expect(try moderator.answer("l1").string("type") == "ack")
        #expect(try screen.find("question") { $0.object("question")?.string("state") == "live" }.object("question")?.string("id") == "q1")
        moderator.send(#"{"type":"question_state","question":"q2","state":"live","ref":"l2"}"#)
        #expect(try moderator.answer("l2").string("type") == "ack")
        let answered = try screen.find("question") { $0.object("question")?.string("state") == "answered" }
        #expect(answered.object("question")?.string("id") == "q1")
        #expect(try screen.find("question") { $0.object("question")?.string("state") == "live" }.object("question")?.string("id") == "q2")
        bob.send(#"{"type":"upvote","question":"q1","up":false,"ref":"late"}"#)
        #expect(try bob.answer("late").string("code") == "question_closed")

        // Dismissed: whole to moderators and the asker, a stub to everyone else.
        moderator.send(#"{"type":"question_state","question":"q2","state":"dismissed","ref":"d"}"#)
        #expect(try moderator.answer("d").string("type") == "ack")
        #expect(try screen.find("question") { $0.object("question")?.string("state") == "dismissed" }.object("question")
            == ["id": .string("q2"), "state": .string("dismissed")])
        #expect(try anna.find("question") { $0.object("question")?.string("state") == "dismissed" }.object("question")
            == ["id": .string("q2"), "state": .string("dismissed")])
        let bobsOwn = try bob.find("question") { $0.object("question")?.string("state") == "dismissed" }
        #expect(bobsOwn.object("question")?.string("text") == "En wanneer?")
        #expect(try moderator.find("question") { $0.object("question")?.string("state") == "dismissed" }
            .object("question")?.string("text") == "En wanneer?")

        // A late joiner sees q1 (answered, anonymous) but not the dismissed q2.
        let (_, late) = try event.participant("Late")
        let questions = try #require(late.object("session")?.array("questions"))
        #expect(questions.count == 1)
        guard case let .object(first)? = questions.first else { Issue.record("no question"); return }
        #expect(first.string("id") == "q1")
        #expect(first["from"] == .null)
        #expect(first.int("upvotes") == 1)
    }

    @Test func moderatedQuestionsStayWithModeratorsAndTheAskerUntilOpened() throws {
        var configuration = LiveEvent.configuration()
        configuration.questionsModerated = true
        let event = try LiveEvent(configuration: configuration)
        let moderator = try event.moderator()
        let (anna, _) = try event.participant("Anna")
        let (bob, _) = try event.participant("Bob")
        anna.send(#"{"type":"ask","text":"Mag ik iets vragen?","ref":"a"}"#)
        #expect(try anna.answer("a").string("id") == "q1")
        #expect(try anna.find("question").object("question")?.string("state") == "pending")
        #expect(try moderator.find("question").object("question")?.string("state") == "pending")
        // The barrier: bob's own request is answered after anything already queued for him.
        bob.send(#"{"type":"upvote","question":"q1","ref":"u"}"#)
        let (beforeUpvote, upvoteAnswer) = try bob.untilAnswer("u")
        #expect(!beforeUpvote.contains { $0.string("type") == "question" })
        #expect(upvoteAnswer.string("code") == "unknown_question")
        moderator.send(#"{"type":"question_state","question":"q1","state":"open"}"#)
        let opened = try bob.find("question")
        #expect(opened.object("question")?.string("state") == "open")
        #expect(opened.object("question")?.string("text") == "Mag ik iets vragen?")
    }

    @Test func askingClosesAndOpensForEveryone() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        let (anna, _) = try event.participant("Anna")
        moderator.send(#"{"type":"questions","open":false,"ref":"c"}"#)
        #expect(try moderator.answer("c").string("type") == "ack")
        #expect(try anna.find("questions") == ["type": .string("questions"), "open": .bool(false)])
        anna.send(#"{"type":"ask","text":"Nog open?","ref":"a"}"#)
        #expect(try anna.answer("a").string("code") == "questions_closed")
        moderator.send(#"{"type":"questions","open":true}"#)
        #expect(try anna.find("questions") == ["type": .string("questions"), "open": .bool(true)])
        anna.send(#"{"type":"ask","text":"Nu wel?","ref":"b"}"#)
        #expect(try anna.answer("b").string("id") == "q1")
    }

    @Test func aBurstOfUpvotesIsCountedExactlyAndReportedInFewPacedEvents() throws {
        let event = try LiveEvent()
        let screen = try event.screen()
        let (anna, _) = try event.participant("Anna")
        anna.send(#"{"type":"ask","text":"Populair?","ref":"a"}"#)
        _ = try anna.answer("a")
        let voters = try (0..<30).map { try event.participant("V\($0)").0 }
        let started = Date()
        for (index, voter) in voters.enumerated() { voter.send("{\"type\":\"upvote\",\"question\":\"q1\",\"ref\":\"u\(index)\"}") }
        for (index, voter) in voters.enumerated() { #expect(try voter.answer("u\(index)").string("type") == "ack") }
        var counts: [Int] = []
        while counts.last != 30 {
            let upvotes = try screen.find("upvotes")
            counts.append(try #require(upvotes.object("counts")?.int("q1")))
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(counts.last == 30)
        #expect(counts == counts.sorted())
        // At most one event every 500 ms (with slack for delivery jitter), not one per upvote.
        #expect(counts.count <= 2 + Int(elapsed / 0.4), "\(counts.count) events in \(elapsed) s")
        #expect(counts.count < 30)
    }

    @Test func erasingAnAskerTakesTheirQuestionFromEveryPage() throws {
        let event = try LiveEvent()
        let moderator = try event.moderator()
        let (anna, annaWelcome) = try event.participant("Anna")
        let (bob, _) = try event.participant("Bob")
        anna.send(#"{"type":"ask","text":"Mijn adres is Dorpsstraat 1","ref":"a"}"#)
        #expect(try anna.answer("a").string("id") == "q1")
        #expect(try bob.find("question").object("question")?.string("state") == "open")
        let annaID = try #require(annaWelcome.object("you")?.string("id"))
        moderator.send(object: [("type", "erase"), ("participant", annaID), ("ref", "e")])
        #expect(try moderator.answer("e").string("type") == "ack")
        #expect(try bob.find("question").object("question") == ["id": .string("q1"), "state": .string("dismissed")])
        let erased = try #require(try moderator.find("question") { $0.object("question")?.string("state") == "dismissed" }.object("question"))
        #expect(erased.string("text") == Room.erasedText)
        #expect(erased.object("from")?.string("id") != annaID)
        let (_, late) = try event.participant("Late")
        #expect(late.object("session")?.array("questions") == [])
    }

    @Test func questionsCSVNeedsTheModeratorKey() throws {
        let event = try LiveEvent()
        let (anna, _) = try event.participant("Anna")
        anna.send(#"{"type":"ask","text":"Exporteer mij","anonymous":true,"ref":"a"}"#)
        _ = try anna.answer("a")
        #expect(try event.http("/export/questions.csv").status == 401)
        let response = try event.http("/export/questions.csv", headers: ["Authorization": "Bearer \(LiveEvent.key)"])
        #expect(response.status == 200)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains("id,at,participant,name,text,upvotes,state,answered_at"))
        #expect(text.contains("q1,"))
        #expect(text.contains(",,,Exporteer mij,0,open,"))
    }
}

/// Revision 2: "Everything here is durable like votes and chat (acks after the record is on disk;
/// a restart continues where it stood) and survives a resume."
@Suite(.timeLimit(.minutes(3)), .serialized)
struct Revision2DurabilityTests {
    @Test func questionsUpvotesAndModesSurviveKillNineAndAResume() throws {
        let server = try StellingProcess(yaml: DurabilityTests.yaml + "\nquestions:\n  moderated: true\n")
        try server.start()
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try server.join(pool, [("type", "join"), ("role", "moderator"), ("key", server.key)])
        let anna = try server.join(pool, [("type", "join"), ("name", "Anna")])
        let bob = try server.join(pool, [("type", "join"), ("name", "Bob")])
        anna.client.send(#"{"type":"ask","text":"Blijft dit staan?","anonymous":true,"ref":"a1"}"#)
        #expect(try anna.client.answer("a1").string("id") == "q1")
        anna.client.send(#"{"type":"ask","text":"Wacht nog","ref":"a2"}"#)
        #expect(try anna.client.answer("a2").string("id") == "q2")
        moderator.client.send(#"{"type":"question_state","question":"q1","state":"live","ref":"l"}"#)
        #expect(try moderator.client.answer("l").string("type") == "ack")
        bob.client.send(#"{"type":"upvote","question":"q1","ref":"u"}"#)
        #expect(try bob.client.answer("u").string("type") == "ack")
        moderator.client.send(#"{"type":"chat_mode","mode":"slow","seconds":60,"ref":"m"}"#)
        #expect(try moderator.client.answer("m").string("type") == "ack")
        moderator.client.send(#"{"type":"questions","open":false,"ref":"q"}"#)
        #expect(try moderator.client.answer("q").string("type") == "ack")
        #expect(server.stop(signal: SIGKILL) == SIGKILL)

        try server.start()
        defer { server.stop() }
        let resumedBob = try server.join(pool, [("type", "join"), ("resume", bob.resume)])
        resumedBob.client.send(#"{"type":"upvote","question":"q1","ref":"again"}"#)
        #expect(try resumedBob.client.answer("again").string("type") == "ack") // already upvoted: acknowledged, not counted twice
        let watcher = pool.connect(url: server.url)
        #expect(watcher.waitOpen(timeout: 5))
        let client = TestClient(watcher)
        client.send(object: [("type", "join"), ("resume", bob.resume)])
        let session = try #require(try client.expect("welcome").object("session"))
        #expect(session.array("myUpvotes") == [.string("q1")])
        #expect(session.object("chatMode") == ["mode": .string("slow"), "seconds": .integer(60)])
        #expect(session["questionsOpen"] == .bool(false))
        let questions = try #require(session.array("questions"))
        #expect(questions.count == 1) // q2 is still pending: only moderators and Anna see it
        guard case let .object(live)? = questions.first else { Issue.record("no question"); return }
        #expect(live.string("id") == "q1")
        #expect(live.string("state") == "live")
        #expect(live.int("upvotes") == 1)
        #expect(live["from"] == .null)

        let annaAgain = pool.connect(url: server.url)
        #expect(annaAgain.waitOpen(timeout: 5))
        let annaClient = TestClient(annaAgain)
        annaClient.send(object: [("type", "join"), ("resume", anna.resume)])
        let annaSession = try #require(try annaClient.expect("welcome").object("session"))
        let annaQuestions = try #require(annaSession.array("questions"))
        #expect(annaQuestions.count == 2)
        guard case let .object(own)? = annaQuestions.first else { Issue.record("no question"); return }
        #expect(own.object("from")?.string("id") == anna.id)
        annaClient.send(#"{"type":"ask","text":"Dicht?","ref":"closed"}"#)
        #expect(try annaClient.answer("closed").string("code") == "questions_closed")
    }
}
