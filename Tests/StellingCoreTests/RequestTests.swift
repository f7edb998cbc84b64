import Testing
@testable import StellingCore
import StellingTesting

@Suite struct RequestDecodingTests {
    private func decode(_ text: String) -> Result<Request, DecodeFailure> { Request.decode(Array(text.utf8)) }

    @Test(arguments: [
        ("{\"type\":\"join\",\"name\":\"Anna\",\"group\":\"Gemeente\"}", Request(.join(.init(name: "Anna", group: "Gemeente")))),
        ("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"k\",\"name\":\"Ruben\",\"ref\":\"1\"}",
         Request(.join(.init(role: .moderator, name: "Ruben", key: "k")), ref: "1")),
        ("{\"type\":\"join\",\"role\":\"screen\"}", Request(.join(.init(role: .screen)))),
        ("{\"type\":\"join\",\"name\":\"A\",\"resume\":\"tok\"}", Request(.join(.init(name: "A", resume: "tok")))),
        ("{\"type\":\"chat\",\"text\":\"hoi\"}", Request(.chat(text: "hoi"))),
        ("{\"type\":\"chat\"}", Request(.chat(text: nil))),
        ("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", Request(.vote(statement: "s1", choice: "agree"))),
        ("{\"type\":\"vote\"}", Request(.vote(statement: nil, choice: nil))),
        ("{\"type\":\"next\"}", Request(.next)),
        ("{\"type\":\"goto\",\"statement\":\"s3\"}", Request(.goto(statement: "s3"))),
        ("{\"type\":\"close\"}", Request(.close)),
        ("{\"type\":\"open\"}", Request(.open)),
        ("{\"type\":\"reveal\",\"visible\":false}", Request(.reveal(visible: false))),
        ("{\"type\":\"reveal\"}", Request(.reveal(visible: true))),
        ("{\"type\":\"add\",\"text\":\"Nieuw\"}", Request(.add(text: "Nieuw"))),
        ("{\"type\":\"hide\",\"message\":17}", Request(.hide(message: 17))),
        ("{\"type\":\"mute\",\"participant\":\"p1\",\"muted\":false}", Request(.mute(participant: "p1", muted: false))),
        ("{\"type\":\"mute\",\"participant\":\"p1\"}", Request(.mute(participant: "p1", muted: true))),
        ("{\"type\":\"announce\",\"text\":\"\"}", Request(.announce(text: ""))),
        ("{\"ref\":\"" + String(repeating: "r", count: 64) + "\",\"type\":\"next\"}", Request(.next, ref: String(repeating: "r", count: 64))),
        ("{\"type\":\"next\",\"ref\":null}", Request(.next)),
    ])
    func decodesEveryRequest(text: String, expected: Request) {
        #expect(decode(text) == .success(expected))
    }

    @Test(arguments: [
        ("not json", nil as String?),
        ("[1,2]", nil),
        ("\"join\"", nil),
        ("{}", nil),
        ("{\"type\":5}", nil),
        ("{\"type\":\"dance\",\"ref\":\"r1\"}", "r1"),
        ("{\"type\":\"join\",\"role\":\"king\",\"ref\":\"r2\"}", "r2"),
        ("{\"type\":\"chat\",\"text\":5,\"ref\":\"r3\"}", "r3"),
        ("{\"type\":\"vote\",\"statement\":[],\"ref\":\"r4\"}", "r4"),
        ("{\"type\":\"hide\",\"message\":\"17\",\"ref\":\"r5\"}", "r5"),
        ("{\"type\":\"hide\",\"message\":1.5,\"ref\":\"r6\"}", "r6"),
        ("{\"type\":\"reveal\",\"visible\":\"yes\",\"ref\":\"r7\"}", "r7"),
        ("{\"type\":\"announce\",\"ref\":\"r8\"}", "r8"),
        ("{\"type\":\"next\",\"ref\":5}", nil),
        ("{\"type\":\"next\",\"ref\":\"" + String(repeating: "r", count: 65) + "\"}", nil),
    ])
    func malformedMessagesAreBadRequestsCarryingTheRefWhenReadable(text: String, ref: String?) {
        guard case let .failure(failure) = decode(text) else {
            Issue.record("decoded \(text)")
            return
        }
        #expect(failure.ref == ref)
        #expect(!failure.message.isEmpty)
    }

    @Test func refLengthCountsCodePoints() {
        let ref = String(repeating: "é", count: 64) // 128 bytes, 64 code points
        #expect(decode("{\"type\":\"next\",\"ref\":\"\(ref)\"}") == .success(Request(.next, ref: ref)))
    }
}

@Suite struct EventEncodingTests {
    private func json(_ event: Event) -> JSONValue? { JSONValue.parse(event.encoded()) }

    @Test func welcomeCarriesEveryFieldOfTheProtocolExample() throws {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let (anna, _) = harness.participant("Anna", group: "Gemeente")
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        _ = harness.send("{\"type\":\"chat\",\"text\":\"Hallo\"}", from: anna)
        let again = harness.connection()
        let token = try #require(harness.records.compactMap { if case let .participantJoined(_, _, _, hash, _) = $0 { hash } else { nil } }.first)
        #expect(token.count == 64) // only the hash is in the record
        let first = harness.send("{\"type\":\"join\",\"name\":\"Anna\",\"group\":\"Gemeente\",\"ref\":\"j1\"}", from: again)
        guard case let .welcome(welcome, _)? = first.first?.event else { Issue.record("no welcome"); return }
        let value = try #require(json(.welcome(welcome, ref: "j1")))
        guard case let .object(top) = value, case let .object(session)? = top["session"], case let .object(you)? = top["you"] else {
            Issue.record("welcome shape: \(value)"); return
        }
        #expect(top["type"] == .string("welcome"))
        #expect(top["ref"] == .string("j1"))
        guard case let .string(resume)? = top["resume"] else { Issue.record("no resume"); return }
        #expect(resume.count >= 43)
        #expect(you["name"] == .string("Anna"))
        #expect(you["role"] == .string("participant"))
        #expect(you["group"] == .string("Gemeente"))
        #expect(session["title"] == .string("Leren samen werken aan opgaven"))
        #expect(session["programme"] == .array([.object(["time": .string("14:00"), "item": .string("Welkom")])]))
        #expect(session["groups"] == .array([.string("Rijk"), .string("Provincie"), .string("Gemeente")]))
        #expect(session["statements"].map { if case let .array(list) = $0 { list.count } else { 0 } } == 3)
        #expect(session["current"] == .object(["statement": .string("s1"), "voting": .string("open"), "results": .string("hidden")]))
        #expect(session["present"] == .integer(2))
        #expect(session["myVotes"] == .object([:]))
        #expect(session["tally"] == .null)
        #expect(session["announcement"] == .null)
        guard case let .array(chat)? = session["chat"], case let .object(message)? = chat.first else { Issue.record("no chat"); return }
        #expect(message["text"] == .string("Hallo"))
        #expect(message["statement"] == .string("s1"))
        #expect(message["hidden"] == nil)
        #expect(message["at"] == .string("2021-01-15T13:00:00.000Z"))
    }

    @Test(arguments: [
        (Event.presence(351), "{\"type\":\"presence\",\"present\":351}"),
        (.hidden(17), "{\"type\":\"hidden\",\"message\":17}"),
        (.announcement(nil), "{\"type\":\"announcement\",\"text\":null}"),
        (.announcement("Pauze"), "{\"type\":\"announcement\",\"text\":\"Pauze\"}"),
        (.ack(ref: "r", id: nil), "{\"type\":\"ack\",\"ref\":\"r\"}"),
        (.ack(ref: "r", id: .message(3)), "{\"type\":\"ack\",\"ref\":\"r\",\"id\":3}"),
        (.ack(ref: "r", id: .statement("s7")), "{\"type\":\"ack\",\"ref\":\"r\",\"id\":\"s7\"}"),
        (.error(.muted, message: "m", ref: nil), "{\"type\":\"error\",\"code\":\"muted\",\"message\":\"m\"}"),
        (.statement(current: nil, statements: nil), "{\"type\":\"statement\",\"current\":null}"),
        (.statement(current: CurrentState(statement: "s2", voting: .closed, results: .visible), statements: [StatementSummary(id: "s2", text: "T")]),
         "{\"type\":\"statement\",\"current\":{\"statement\":\"s2\",\"voting\":\"closed\",\"results\":\"visible\"},\"statements\":[{\"id\":\"s2\",\"text\":\"T\"}]}"),
        (.tally(Tally(statement: "s2", counts: Counts(agree: 120, disagree: 80, pass: 10), present: 350,
                      groups: [(name: "Gemeente", counts: Counts(agree: 40, disagree: 12, pass: 3))])),
         "{\"type\":\"tally\",\"statement\":\"s2\",\"agree\":120,\"disagree\":80,\"pass\":10,\"voters\":210,\"present\":350,\"groups\":{\"Gemeente\":{\"agree\":40,\"disagree\":12,\"pass\":3}}}"),
        (.tally(Tally(statement: "s1", counts: Counts(), present: 0, groups: nil)),
         "{\"type\":\"tally\",\"statement\":\"s1\",\"agree\":0,\"disagree\":0,\"pass\":0,\"voters\":0,\"present\":0}"),
    ])
    func eventsEncodeExactly(event: Event, text: String) {
        #expect(String(decoding: event.encoded(), as: UTF8.self) == text)
    }

    @Test func everyErrorCodeEncodesWithItsWireName() {
        for code in ErrorCode.allCases {
            let value = JSONValue.parse(Event.error(code, ref: "x").encoded())
            guard case let .object(fields)? = value else { Issue.record("not an object"); continue }
            #expect(fields["code"] == .string(code.rawValue))
            #expect(fields["ref"] == .string("x"))
            #expect(fields["message"] != nil)
        }
        #expect(ErrorCode.allCases.count == 22) // 17 of version 1, 4 of Revision 2, unavailable
    }
}
