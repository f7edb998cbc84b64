import Testing
@testable import StellingCore
import StellingTesting

// PROTOCOL.md "Revision 2": chat modes, the chat budget (issue 11 section 4) and questions.

extension Event {
    var questionView: QuestionView? { if case let .question(view) = self { view } else { nil } }
    var upvoteCounts: [UpvoteCount]? { if case let .upvotes(counts) = self { counts } else { nil } }
    var retryAfter: Int64? { if case let .rateLimited(milliseconds, _, _) = self { milliseconds } else { nil } }
}

extension Harness {
    /// Sends a question and returns its id from the ack.
    mutating func ask(_ text: String = "Wat kost het?", anonymous: Bool = false, from connection: ConnectionID) -> QuestionID? {
        let deliveries = send("{\"type\":\"ask\",\"text\":\"\(text)\",\"anonymous\":\(anonymous),\"ref\":\"a\"}", from: connection)
        for event in deliveries.to(connection) { if case let .ack("a", .question(id)?) = event { return id } }
        return nil
    }
}

@Suite struct Revision2DecodingTests {
    @Test(arguments: [
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":30}", Request(.chatMode(mode: "slow", seconds: 30))),
        ("{\"type\":\"chat_mode\",\"mode\":\"open\"}", Request(.chatMode(mode: "open", seconds: nil))),
        ("{\"type\":\"ask\",\"text\":\"Waarom?\",\"anonymous\":true}", Request(.ask(text: "Waarom?", anonymous: true))),
        ("{\"type\":\"ask\",\"text\":\"Waarom?\"}", Request(.ask(text: "Waarom?", anonymous: false))),
        ("{\"type\":\"upvote\",\"question\":\"q3\",\"up\":false}", Request(.upvote(question: "q3", up: false))),
        ("{\"type\":\"upvote\",\"question\":\"q3\"}", Request(.upvote(question: "q3", up: true))),
        ("{\"type\":\"questions\",\"open\":false}", Request(.questions(open: false))),
        ("{\"type\":\"question_state\",\"question\":\"q3\",\"state\":\"live\"}", Request(.questionState(question: "q3", state: "live"))),
    ])
    func decodesEveryRevision2Request(text: String, expected: Request) {
        #expect(Request.decode(Array(text.utf8)) == .success(expected))
    }

    @Test(arguments: [
        "{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":\"30\"}",
        "{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":2.5}",
        "{\"type\":\"ask\",\"text\":\"x\",\"anonymous\":\"yes\"}",
        "{\"type\":\"upvote\",\"question\":3}",
        "{\"type\":\"questions\",\"open\":1}",
    ])
    func fieldsOfTheWrongTypeAreBadRequests(text: String) {
        guard case .failure = Request.decode(Array(text.utf8)) else { Issue.record("decoded \(text)"); return }
    }

    @Test(arguments: [
        (Event.chatMode(.slow(seconds: 30)), "{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":30}"),
        (Event.chatMode(.closed), "{\"type\":\"chat_mode\",\"mode\":\"closed\"}"),
        (Event.questionsOpen(true), "{\"type\":\"questions\",\"open\":true}"),
        (Event.upvotes([UpvoteCount(question: "q3", upvotes: 12), UpvoteCount(question: "q7", upvotes: 4)]),
         "{\"type\":\"upvotes\",\"counts\":{\"q3\":12,\"q7\":4}}"),
        (Event.question(.dismissed("q3")), "{\"type\":\"question\",\"question\":{\"id\":\"q3\",\"state\":\"dismissed\"}}"),
        (Event.question(.whole(Question(id: "q3", text: "Hoe?", asker: "p1", name: "Anna", anonymous: true,
                                        at: Instant(milliseconds: 1_610_715_900_123), state: .open, upvotes: 2), showAsker: false)),
         "{\"type\":\"question\",\"question\":{\"id\":\"q3\",\"text\":\"Hoe?\",\"from\":null,\"anonymous\":true,\"at\":\"2021-01-15T13:05:00.123Z\",\"upvotes\":2,\"state\":\"open\"}}"),
        (Event.question(.whole(Question(id: "q3", text: "Hoe?", asker: "p1", name: "Anna", anonymous: true,
                                        at: Instant(milliseconds: 1_610_715_900_123), state: .live, upvotes: 2), showAsker: true)),
         "{\"type\":\"question\",\"question\":{\"id\":\"q3\",\"text\":\"Hoe?\",\"from\":{\"id\":\"p1\",\"name\":\"Anna\"},\"anonymous\":true,\"at\":\"2021-01-15T13:05:00.123Z\",\"upvotes\":2,\"state\":\"live\"}}"),
        (Event.rateLimited(retryAfterMilliseconds: 1500, message: "m", ref: "r"),
         "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"m\",\"retry_after_ms\":1500,\"ref\":\"r\"}"),
        (Event.ack(ref: "a", id: .question("q1")), "{\"type\":\"ack\",\"ref\":\"a\",\"id\":\"q1\"}"),
    ])
    func revision2EventsEncodeExactly(event: Event, text: String) {
        #expect(String(decoding: event.encoded(), as: UTF8.self) == text)
    }

    @Test func theWelcomeListsTheFeaturesAndTheRevision2Fields() {
        var harness = Harness()
        let (_, welcome) = harness.participant()
        guard case let .object(top)? = JSONValue.parse(Event.welcome(welcome, ref: nil).encoded()),
              case let .object(session)? = top["session"] else { Issue.record("no session"); return }
        #expect(top["features"] == .array([.string("chat_mode"), .string("questions")]))
        #expect(session["chatMode"] == .object(["mode": .string("open")]))
        #expect(session["questions"] == .array([]))
        #expect(session["questionsOpen"] == .bool(true))
        #expect(session["myUpvotes"] == .array([]))
    }

    @Test func moderatorsAndScreensGetNoMyUpvotes() {
        var harness = Harness()
        let moderator = harness.moderator()
        let screen = harness.screen()
        _ = moderator; _ = screen
        guard case let .welcome(welcome, _)? = harness.send("{\"type\":\"join\",\"role\":\"screen\"}", from: harness.connection()).first?.event
        else { Issue.record("no welcome"); return }
        #expect(welcome.myUpvotes == nil)
        guard case let .object(top)? = JSONValue.parse(Event.welcome(welcome, ref: nil).encoded()),
              case let .object(session)? = top["session"] else { Issue.record("no session"); return }
        #expect(session["myUpvotes"] == nil)
    }
}

@Suite struct ChatModeTests {
    @Test(arguments: [
        ("{\"type\":\"chat_mode\",\"mode\":\"open\"}", ChatMode.open as ChatMode?),
        ("{\"type\":\"chat_mode\",\"mode\":\"closed\"}", .closed),
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\"}", .slow(seconds: 30)),
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":5}", .slow(seconds: 5)),
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":600}", .slow(seconds: 600)),
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":4}", nil),
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":601}", nil),
        ("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":-30}", nil),
        ("{\"type\":\"chat_mode\",\"mode\":\"fast\"}", nil),
        ("{\"type\":\"chat_mode\",\"mode\":\"OPEN\"}", nil),
        ("{\"type\":\"chat_mode\"}", nil),
    ])
    func aModeratorSetsTheModeAndBadModesAreBadRequests(request: String, mode: ChatMode?) {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        let before = harness.records.count
        let deliveries = harness.send(request, from: moderator)
        if let mode, mode != .open {
            #expect(deliveries.errors(to: moderator).isEmpty)
            #expect(harness.room.chatMode == mode)
            #expect(deliveries.to(anna) == [.chatMode(mode)])
            #expect(deliveries.to(moderator) == [.chatMode(mode)])
            #expect(harness.records.last == .chatModeSet(mode, at: harness.clock))
        } else if mode == .open {
            #expect(deliveries.isEmpty) // already open: acknowledged (no ref here), no event, no record
            #expect(harness.records.count == before)
        } else {
            #expect(deliveries.errors(to: moderator) == [.badRequest])
            #expect(harness.room.chatMode == .open)
            #expect(harness.records.count == before)
        }
    }

    @Test func participantsAndScreensMayNotSetTheChatMode() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        let screen = harness.screen()
        for connection in [anna, screen] {
            #expect(harness.send("{\"type\":\"chat_mode\",\"mode\":\"closed\"}", from: connection).errors(to: connection) == [.forbidden])
        }
        #expect(harness.room.chatMode == .open)
    }

    @Test func aClosedChatRefusesParticipantsButNotModerators() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"chat_mode\",\"mode\":\"closed\"}", from: moderator)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: anna).errors(to: anna) == [.chatClosed])
        let fromModerator = harness.send("{\"type\":\"chat\",\"text\":\"Even stil\"}", from: moderator)
        #expect(fromModerator.errors(to: moderator).isEmpty)
        #expect(fromModerator.to(anna).contains { $0.isChat })
        _ = harness.send("{\"type\":\"chat_mode\",\"mode\":\"open\"}", from: moderator)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: anna).errors(to: anna).isEmpty)
    }

    @Test func slowModeAllowsOneMessagePerIntervalAndSaysHowLongToWait() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":10}", from: moderator)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"een\"}", from: anna).errors(to: anna).isEmpty)
        harness.advance(milliseconds: 2500)
        let refused = harness.send("{\"type\":\"chat\",\"text\":\"twee\",\"ref\":\"r\"}", from: anna).to(anna)
        #expect(refused.map(\.retryAfter) == [7500])
        #expect(refused.first?.ref == "r")
        harness.advance(milliseconds: 7499)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"twee\"}", from: anna).to(anna).map(\.retryAfter) == [1])
        harness.advance(milliseconds: 1)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"twee\"}", from: anna).errors(to: anna).isEmpty)
        // Moderators are not slowed.
        for index in 0..<3 {
            #expect(harness.send("{\"type\":\"chat\",\"text\":\"mod \(index)\"}", from: moderator).errors(to: moderator).isEmpty)
        }
    }

    @Test func slowModeCountsFromTheLastMessageEvenOneSentBeforeItAndAfterARestart() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"chat\",\"text\":\"vooraf\"}", from: anna)
        harness.advance(milliseconds: 1000)
        _ = harness.send("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":30}", from: moderator)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"nu\"}", from: anna).to(anna).map(\.retryAfter) == [29000])
        let rebuilt = Room(configuration: harness.room.configuration, replaying: harness.records)
        #expect(rebuilt.chatMode == .slow(seconds: 30))
        #expect(rebuilt.lastChatAt == harness.room.lastChatAt)
    }

    @Test func theWelcomeCarriesTheChatMode() {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"chat_mode\",\"mode\":\"slow\",\"seconds\":45}", from: moderator)
        let (_, welcome) = harness.participant()
        #expect(welcome.chatMode == .slow(seconds: 45))
    }

    @Test func theChatBudgetBoundsParticipantsMessagesForTheWholeEvent() {
        var configuration = Harness.configuration()
        configuration.limits.chatBudgetPerSecond = 3
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let people = (0..<4).map { harness.participant("P\($0)").0 }
        for person in people.prefix(3) {
            #expect(harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: person).errors(to: person).isEmpty)
        }
        let refused = harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: people[3]).to(people[3])
        #expect(refused.map(\.retryAfter) == [334]) // a third of a second, rounded up
        // Moderators are exempt.
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"mod\"}", from: moderator).errors(to: moderator).isEmpty)
        // The refused participant's own bucket was not spent: five fit after the budget refills.
        harness.advance(milliseconds: 1000)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"nu\"}", from: people[3]).errors(to: people[3]).isEmpty)
        #expect(harness.room.buckets[harness.room.identity(of: people[3])!]!.chat.hasToken(at: harness.clock))
    }

    @Test func theChatFanoutBudgetShrinksTheChatAsTheAudienceGrows() {
        var configuration = Harness.configuration()
        configuration.limits.chatFanoutPerSecond = 10
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let people = (0..<4).map { harness.participant("P\($0)").0 }
        // Five joined connections: a message costs five deliveries, so two fit in the burst of ten.
        for person in people.prefix(2) {
            #expect(harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: person).errors(to: person).isEmpty)
        }
        let refused = harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: people[2]).to(people[2])
        #expect(refused.map(\.retryAfter) == [500]) // five deliveries at ten a second
        // Moderators are exempt and spend nothing.
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"mod\"}", from: moderator).errors(to: moderator).isEmpty)
        harness.advance(milliseconds: 500)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"nu\"}", from: people[2]).errors(to: people[2]).isEmpty)
    }

    @Test func theChatFanoutBudgetDefaultsToAHundredThousandDeliveriesASecond() {
        #expect(Limits().chatFanoutPerSecond == 60_000)
    }

    @Test func theChatBudgetDefaultsToFiftyASecond() {
        #expect(Limits().chatBudgetPerSecond == 50)
    }

    @Test func theOwnChatBucketRefusalCarriesRetryAfter() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        for index in 0..<5 { _ = harness.send("{\"type\":\"chat\",\"text\":\"m\(index)\"}", from: anna) }
        harness.advance(milliseconds: 400)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"x\"}", from: anna).to(anna).map(\.retryAfter) == [600])
    }
}

@Suite struct QuestionTests {
    @Test func aQuestionIsAcknowledgedWithItsIdAndShownToEveryone() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        let screen = harness.screen()
        let deliveries = harness.send("{\"type\":\"ask\",\"text\":\"Wat kost het?\",\"ref\":\"a\"}", from: anna)
        #expect(deliveries.to(anna).first == .ack(ref: "a", id: .question("q1")))
        let question = harness.room.questions[0]
        #expect(question == Question(id: "q1", text: "Wat kost het?", asker: harness.room.identity(of: anna)!, name: "Anna",
                                     anonymous: false, at: harness.clock, state: .open))
        for connection in [moderator, anna, bob, screen] {
            #expect(deliveries.to(connection).contains { $0.questionView != nil })
        }
        #expect(harness.records == harness.records.filter { _ in true })
        #expect(harness.records.last == .questionAsked(question))
        #expect(harness.ask("Tweede?", from: bob) == "q2")
    }

    @Test func anAnonymousQuestionShowsItsAskerOnlyToModeratorsAndTheAsker() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        let screen = harness.screen()
        let deliveries = harness.send("{\"type\":\"ask\",\"text\":\"Anoniem?\",\"anonymous\":true}", from: anna)
        let question = harness.room.questions[0]
        #expect(deliveries.to(moderator) == [.question(.whole(question, showAsker: true))])
        #expect(deliveries.to(anna) == [.question(.whole(question, showAsker: true))])
        #expect(deliveries.to(bob) == [.question(.whole(question, showAsker: false))])
        #expect(deliveries.to(screen) == [.question(.whole(question, showAsker: false))])
        let json = String(decoding: Event.question(.whole(question, showAsker: false)).encoded(), as: UTF8.self)
        #expect(json.contains("\"from\":null") && !json.contains("Anna"))
        // The same in the welcome of a late joiner, a resumed asker and a moderator.
        let (_, late) = harness.participant("Late")
        #expect(late.questions == [.whole(question, showAsker: false)])
        let moderatorWelcome = harness.send("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(Harness.key)\"}", from: harness.connection())
        guard case let .welcome(welcome, _)? = moderatorWelcome.first?.event else { Issue.record("no welcome"); return }
        #expect(welcome.questions == [.whole(question, showAsker: true)])
    }

    @Test(arguments: [
        ("{\"type\":\"ask\",\"text\":\"\"}", ErrorCode.empty),
        ("{\"type\":\"ask\",\"text\":\"  \\n \"}", .empty),
        ("{\"type\":\"ask\"}", .empty),
        ("{\"type\":\"ask\",\"text\":\"" + String(repeating: "x", count: 301) + "\"}", .tooLong),
        ("{\"type\":\"ask\",\"text\":\"" + String(repeating: "😀", count: 301) + "\"}", .tooLong),
    ])
    func badQuestionsAreRefused(request: String, code: ErrorCode) {
        var harness = Harness()
        let (anna, _) = harness.participant()
        #expect(harness.send(request, from: anna).errors(to: anna) == [code])
        #expect(harness.room.questions.isEmpty)
    }

    @Test func aQuestionOfExactlyTheLimitIsAccepted() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        #expect(harness.ask(String(repeating: "😀", count: 300), from: anna) == "q1")
    }

    @Test func theQuestionLengthIsConfigurable() {
        var configuration = Harness.configuration()
        configuration.limits.questionChars = 10
        var harness = Harness(configuration)
        let (anna, _) = harness.participant()
        #expect(harness.send("{\"type\":\"ask\",\"text\":\"01234567890\"}", from: anna).errors(to: anna) == [.tooLong])
        #expect(harness.ask("0123456789", from: anna) == "q1")
    }

    @Test func onlyParticipantsAsk() {
        var harness = Harness()
        let moderator = harness.moderator()
        let screen = harness.screen()
        for connection in [moderator, screen] {
            #expect(harness.send("{\"type\":\"ask\",\"text\":\"Ik?\"}", from: connection).errors(to: connection) == [.forbidden])
        }
    }

    @Test func aMutedParticipantMayNotAsk() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, welcome) = harness.participant()
        _ = harness.send("{\"type\":\"mute\",\"participant\":\"\(welcome.you.id)\"}", from: moderator)
        #expect(harness.send("{\"type\":\"ask\",\"text\":\"Mag ik?\"}", from: anna).errors(to: anna) == [.muted])
    }

    @Test func closedAskingRefusesQuestionsButNotUpvotes() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask(from: anna)
        let closing = harness.send("{\"type\":\"questions\",\"open\":false,\"ref\":\"c\"}", from: moderator)
        #expect(closing.to(moderator) == [.ack(ref: "c", id: nil), .questionsOpen(false)])
        #expect(closing.to(bob) == [.questionsOpen(false)])
        #expect(harness.records.last == .questionsOpened(false, at: harness.clock))
        #expect(harness.send("{\"type\":\"ask\",\"text\":\"Nog een?\"}", from: bob).errors(to: bob) == [.questionsClosed])
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob).errors(to: bob).isEmpty)
        let (_, late) = harness.participant("Late")
        #expect(late.questionsOpen == false)
        // Closing again is acknowledged with no event.
        #expect(harness.send("{\"type\":\"questions\",\"open\":false,\"ref\":\"d\"}", from: moderator).to(moderator) == [.ack(ref: "d", id: nil)])
        #expect(harness.send("{\"type\":\"questions\",\"open\":true}", from: anna).errors(to: anna) == [.forbidden])
    }

    @Test func questionsOpenFalseInTheConfigurationStartsClosed() {
        var configuration = Harness.configuration()
        configuration.questionsOpen = false
        var harness = Harness(configuration)
        let (anna, welcome) = harness.participant()
        #expect(welcome.questionsOpen == false)
        #expect(harness.send("{\"type\":\"ask\",\"text\":\"Hallo?\"}", from: anna).errors(to: anna) == [.questionsClosed])
    }

    @Test func askingIsLimitedToABurstOfTwoThenTwoAMinute() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        #expect(harness.ask("Een?", from: anna) == "q1")
        #expect(harness.ask("Twee?", from: anna) == "q2")
        let refused = harness.send("{\"type\":\"ask\",\"text\":\"Drie?\"}", from: anna).to(anna)
        #expect(refused.map(\.retryAfter) == [30000])
        harness.advance(milliseconds: 30000)
        #expect(harness.ask("Drie?", from: anna) == "q3")
    }

    @Test func moderatedQuestionsWaitAsPendingSeenOnlyByModeratorsAndTheAsker() {
        var configuration = Harness.configuration()
        configuration.questionsModerated = true
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        let screen = harness.screen()
        let asked = harness.send("{\"type\":\"ask\",\"text\":\"Mag dit?\",\"anonymous\":true}", from: anna)
        let pending = harness.room.questions[0]
        #expect(pending.state == .pending)
        #expect(asked.to(moderator) == [.question(.whole(pending, showAsker: true))])
        #expect(asked.to(anna).contains(.question(.whole(pending, showAsker: true))))
        #expect(asked.to(bob).isEmpty && asked.to(screen).isEmpty)
        let (_, late) = harness.participant("Late")
        #expect(late.questions.isEmpty)
        // Others cannot upvote (or learn of) a pending question.
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob).errors(to: bob) == [.unknownQuestion])
        // A moderator opens it: now everyone sees it.
        let opened = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"open\"}", from: moderator)
        let open = harness.room.questions[0]
        #expect(open.state == .open)
        #expect(opened.to(bob) == [.question(.whole(open, showAsker: false))])
        #expect(opened.to(screen) == [.question(.whole(open, showAsker: false))])
        #expect(opened.to(anna) == [.question(.whole(open, showAsker: true))])
    }

    @Test func aPendingQuestionDismissedStaysUnseenByOthers() {
        var configuration = Harness.configuration()
        configuration.questionsModerated = true
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask(from: anna)
        let dismissed = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"dismissed\"}", from: moderator)
        #expect(dismissed.to(bob).isEmpty)
        #expect(dismissed.to(anna).count == 1)
    }

    @Test func aDismissedQuestionGoesWholeToModeratorsAndTheAskerAndAsAStubToOthers() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        let screen = harness.screen()
        _ = harness.ask(from: anna)
        let deliveries = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"dismissed\",\"ref\":\"d\"}", from: moderator)
        let question = harness.room.questions[0]
        #expect(question.state == .dismissed)
        #expect(deliveries.to(moderator) == [.ack(ref: "d", id: nil), .question(.whole(question, showAsker: true))])
        #expect(deliveries.to(anna) == [.question(.whole(question, showAsker: true))])
        #expect(deliveries.to(bob) == [.question(.dismissed("q1"))])
        #expect(deliveries.to(screen) == [.question(.dismissed("q1"))])
        let (_, late) = harness.participant("Late")
        #expect(late.questions.isEmpty)
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob).errors(to: bob) == [.unknownQuestion])
    }

    @Test func atMostOneQuestionIsLiveAndTheOneBeforeBecomesAnswered() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask("Een?", from: anna)
        _ = harness.ask("Twee?", from: bob)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"live\"}", from: moderator)
        harness.advance(milliseconds: 60_000)
        let second = harness.send("{\"type\":\"question_state\",\"question\":\"q2\",\"state\":\"live\"}", from: moderator)
        #expect(harness.room.questions.map(\.state) == [.answered, .live])
        #expect(harness.room.questions[0].answeredAt == harness.clock)
        #expect(second.to(bob).compactMap(\.questionView) == [
            .whole(harness.room.questions[0], showAsker: false), .whole(harness.room.questions[1], showAsker: true),
        ])
        // One record for the change; replaying it makes the same room.
        #expect(harness.records.last == .questionStateSet("q2", state: .live, at: harness.clock))
        let rebuilt = Room(configuration: harness.room.configuration, replaying: harness.records)
        #expect(rebuilt.questions == harness.room.questions)
        #expect(rebuilt.liveQuestion == 1)
    }

    @Test(arguments: [
        ("{\"type\":\"question_state\",\"question\":\"q9\",\"state\":\"live\"}", ErrorCode.unknownQuestion),
        ("{\"type\":\"question_state\",\"question\":\"x1\",\"state\":\"live\"}", .unknownQuestion),
        ("{\"type\":\"question_state\",\"state\":\"live\"}", .unknownQuestion),
        ("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"pending\"}", .badRequest),
        ("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"gone\"}", .badRequest),
        ("{\"type\":\"question_state\",\"question\":\"q1\"}", .badRequest),
    ])
    func badStateChangesAreRefused(request: String, code: ErrorCode) {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.ask(from: anna)
        #expect(harness.send(request, from: moderator).errors(to: moderator) == [code])
        #expect(harness.room.questions[0].state == .open)
        #expect(harness.send(request, from: anna).errors(to: anna) == [.forbidden])
    }

    @Test func answeredAndReopenedQuestionsKeepTheirTimeOnlyWhileAnswered() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.ask(from: anna)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"answered\"}", from: moderator)
        #expect(harness.room.questions[0].answeredAt == harness.clock)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"open\"}", from: moderator)
        #expect(harness.room.questions[0].answeredAt == nil)
        #expect(harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"open\",\"ref\":\"s\"}", from: moderator).to(moderator)
            == [.ack(ref: "s", id: nil)])
    }
}

@Suite struct UpvoteTests {
    @Test func upvotesCountOncePerParticipantAndCanBeTakenBack() {
        var harness = Harness()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        let (carol, _) = harness.participant("Carol")
        _ = harness.ask(from: anna)
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\",\"ref\":\"u\"}", from: bob).to(bob) == [.ack(ref: "u", id: nil)])
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\",\"ref\":\"u\"}", from: bob).to(bob) == [.ack(ref: "u", id: nil)])
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: carol)
        #expect(harness.room.questions[0].upvotes == 2)
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q1\",\"up\":false}", from: carol)
        #expect(harness.room.questions[0].upvotes == 1)
        let upvoteRecords = harness.records.filter { if case .questionUpvoted = $0 { true } else { false } }
        #expect(upvoteRecords.count == 3) // the repeated upvote made no record
    }

    @Test func aParticipantMayNotUpvoteTheirOwnQuestion() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        _ = harness.ask(from: anna)
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: anna).errors(to: anna) == [.forbidden])
        #expect(harness.room.questions[0].upvotes == 0)
    }

    @Test(arguments: [QuestionState.answered, .dismissed])
    func upvotesOnAClosedQuestionAreRefused(state: QuestionState) {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask(from: anna)
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"\(state.rawValue)\"}", from: moderator)
        let expected: ErrorCode = state == .dismissed ? .unknownQuestion : .questionClosed
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\",\"up\":false}", from: bob).errors(to: bob) == [expected])
        #expect(harness.room.questions[0].upvotes == 1)
    }

    @Test func aLiveQuestionTakesUpvotes() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask(from: anna)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"live\"}", from: moderator)
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob).errors(to: bob).isEmpty)
    }

    @Test(arguments: ["q2", "q0", "1", "Q1", "q01", ""])
    func upvotesOnUnknownQuestionsAreRefused(id: String) {
        var harness = Harness()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask(from: anna)
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"\(id)\"}", from: bob).errors(to: bob) == [.unknownQuestion])
    }

    @Test func moderatorsAndScreensMayNotUpvote() {
        var harness = Harness()
        let moderator = harness.moderator()
        let screen = harness.screen()
        let (anna, _) = harness.participant("Anna")
        _ = harness.ask(from: anna)
        for connection in [moderator, screen] {
            #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: connection).errors(to: connection) == [.forbidden])
        }
    }

    @Test func upvotesShareTheVoteBucket() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        _ = harness.ask(from: anna)
        for index in 0..<9 {
            let choice = index % 2 == 0 ? "agree" : "disagree"
            #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"\(choice)\"}", from: bob).errors(to: bob).isEmpty)
        }
        #expect(harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob).errors(to: bob).isEmpty) // the tenth token
        let refused = harness.send("{\"type\":\"upvote\",\"question\":\"q1\",\"up\":false}", from: bob).to(bob)
        #expect(refused.map(\.retryAfter) == [500])
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: bob).to(bob).map(\.retryAfter) == [500])
    }

    @Test func upvoteCountsGoToEveryoneAtMostEveryHalfSecondWithOnlyTheChangedCounts() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let voters = (0..<3).map { harness.participant("V\($0)").0 }
        let screen = harness.screen()
        _ = harness.ask("Een?", from: anna)
        _ = harness.ask("Twee?", from: anna)
        for voter in voters { _ = harness.send("{\"type\":\"upvote\",\"question\":\"q2\"}", from: voter) }
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: voters[0])
        let first = harness.tick()
        let expected = Event.upvotes([UpvoteCount(question: "q1", upvotes: 1), UpvoteCount(question: "q2", upvotes: 3)])
        #expect(first.recipients { $0 == expected } == Set([moderator, anna, screen] + voters))
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q2\",\"up\":false}", from: voters[1])
        harness.advance(milliseconds: 499)
        #expect(harness.tick().isEmpty)
        harness.advance(milliseconds: 1)
        #expect(harness.tick().to(screen) == [.upvotes([UpvoteCount(question: "q2", upvotes: 2)])])
        harness.advance(milliseconds: 5000)
        #expect(harness.tick().isEmpty) // nothing changed
    }

    @Test func theWelcomeListsMyUpvotesAndQuestionsInOrderOfAsking() {
        var harness = Harness()
        let (anna, _) = harness.participant("Anna")
        let (bob, bobWelcome) = harness.participant("Bob")
        _ = harness.ask("Een?", from: anna)
        _ = harness.ask("Twee?", from: anna)
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q2\"}", from: bob)
        let (_, resumed) = harness.send("{\"type\":\"join\",\"resume\":\"\(bobWelcome.resume!)\"}", from: harness.connection())
            .compactMap { if case let .welcome(welcome, _) = $0.event { ((), welcome) } else { nil } }.first!
        #expect(resumed.myUpvotes == ["q2"])
        #expect(resumed.questions.map { if case let .whole(question, _) = $0 { question.id.rawValue } else { "" } } == ["q1", "q2"])
        #expect(resumed.questions.map { if case let .whole(question, _) = $0 { question.upvotes } else { -1 } } == [0, 1])
    }

    @Test func questionsAndUpvotesSurviveARestart() {
        var configuration = Harness.configuration()
        configuration.questionsModerated = true
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        let (bob, _) = harness.participant("Bob")
        _ = harness.ask("Een?", anonymous: true, from: anna)
        _ = harness.ask("Twee?", from: bob)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"open\"}", from: moderator)
        _ = harness.send("{\"type\":\"upvote\",\"question\":\"q1\"}", from: bob)
        _ = harness.send("{\"type\":\"question_state\",\"question\":\"q1\",\"state\":\"live\"}", from: moderator)
        _ = harness.send("{\"type\":\"questions\",\"open\":false}", from: moderator)
        _ = harness.send("{\"type\":\"chat_mode\",\"mode\":\"closed\"}", from: moderator)
        let rebuilt = Room(configuration: configuration, replaying: harness.records)
        #expect(rebuilt.questions == harness.room.questions)
        #expect(rebuilt.upvoters == harness.room.upvoters)
        #expect(rebuilt.questionsOpen == false)
        #expect(rebuilt.chatMode == .closed)
        #expect(rebuilt.liveQuestion == 0)
        #expect(rebuilt.upvotesDirty.isEmpty)
    }
}
