import Foundation
import Testing
@testable import StellingCore
import StellingTesting

/// Deterministic fuzzing of the JSON parser, `Request.decode` and the room (docs/FUZZING.md).
/// Seeds are fixed, so a failure repeats; the checks live in FuzzOracle.swift, which the
/// libFuzzer target in fuzz/ shares. Bounded in count: the whole suite takes seconds.
@Suite(.timeLimit(.minutes(1))) struct FuzzTests {
    /// The seed corpus in fuzz/corpus/, one file per seed, sorted by name.
    static let corpus: [(name: String, bytes: [UInt8])] = {
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map { (name, [UInt8]($0)) }
        }
    }()

    static let jsonInputs = 30_000
    static let generatedValues = 5_000
    static let roomRuns: [(seed: UInt64, groups: Bool, steps: Int)] = [(1, true, 2_500), (2, false, 2_500), (3, true, 2_500)]

    @Test func theCorpusHoldsEveryKindOfSeed() {
        let names = Set(FuzzTests.corpus.map(\.name))
        #expect(FuzzTests.corpus.count >= 100)
        for type in ["join-participant", "join-moderator", "join-screen", "chat", "vote-agree", "next", "goto", "close", "open",
                     "reveal-true", "add", "hide", "mute", "announce", "surrogate-lone-high", "invalid-utf8-overlong",
                     "raw-nul-in-string", "deep-array-33", "duplicate-ref", "bom", "trailing-garbage", "huge-exponent"] {
            #expect(names.contains(type + ".json"), "corpus lacks \(type)")
        }
    }

    /// Every seed as it is: the parser's round trip and a defined answer from the decoder.
    @Test func everySeedGetsADefinedAnswer() {
        for (name, bytes) in FuzzTests.corpus {
            if let problem = JSONOracle.roundTripProblem(bytes) { Issue.record("\(name): \(problem)") }
            if let problem = DecodeOracle.problem(bytes) { Issue.record("\(name): \(problem)") }
        }
    }

    /// Random bytes and mutations of the corpus (bit flips, inserts, deletes, splices,
    /// truncation): no crash, bounded time, round trip through JSONWriter, a defined decode.
    @Test func parserAndDecoderOnRandomAndMutatedInput() {
        let seeds = FuzzTests.corpus.map(\.bytes)
        try? #require(!seeds.isEmpty)
        var random = SeededRandom(seed: 0x5EED)
        let clock = ContinuousClock()
        var slowest = Duration.zero
        var accepted = 0, decoded = 0, problems = 0
        let started = clock.now
        for index in 0..<FuzzTests.jsonInputs {
            let input = index % 4 == 0
                ? Mutator.randomBytes(random: &random)
                : Mutator.mutate(random.pick(seeds), other: random.pick(seeds), random: &random)
            var jsonProblem: String?, decodeProblem: String?
            let took = clock.measure {
                jsonProblem = JSONOracle.roundTripProblem(input)
                decodeProblem = DecodeOracle.problem(input)
            }
            slowest = max(slowest, took)
            if JSONValue.parse(input) != nil { accepted += 1 }
            if case .success = Request.decode(input) { decoded += 1 }
            for problem in [jsonProblem, decodeProblem].compactMap({ $0 }) where problems < 10 {
                problems += 1
                Issue.record("input \(index) \(Self.show(input)): \(problem)")
            }
        }
        #expect(slowest < .seconds(2), "one input took \(slowest)")
        print("fuzz: parser and decoder: \(FuzzTests.jsonInputs) inputs (\(accepted) valid JSON, \(decoded) requests) in \(clock.now - started), slowest \(slowest)")
        #expect(accepted > FuzzTests.jsonInputs / 20, "the mutations should keep some inputs valid")
        #expect(decoded > FuzzTests.jsonInputs / 50)
    }

    /// Random values spelled every valid way by an encoder independent of JSONWriter parse back
    /// exactly (the round trip alone cannot see a parser and writer agreeing on a wrong meaning).
    @Test func generatedJSONParsesToExactlyTheGeneratedValue() {
        var random = SeededRandom(seed: 0x150)
        var problems = 0
        for _ in 0..<FuzzTests.generatedValues {
            if let problem = GeneratedJSON.problem(random: &random), problems < 10 {
                problems += 1
                Issue.record(Comment(rawValue: problem))
            }
        }
        print("fuzz: generated JSON: \(FuzzTests.generatedValues) values")
    }

    /// Rooms driven by random joins, requests (valid and mutated), disconnects and ticks from many
    /// connections, with every invariant of RoomDriver checked after every step.
    @Test(arguments: FuzzTests.roomRuns.indices)
    func roomUnderRandomSequences(run: Int) {
        let (seed, groups, steps) = FuzzTests.roomRuns[run]
        let clock = ContinuousClock()
        let started = clock.now
        var driver = RoomDriver(groups: groups, statements: 3, seed: seed)
        var script = Script(seed: seed &* 7919, corpus: FuzzTests.corpus.map(\.bytes))
        for step in 0..<steps {
            script.step(&driver)
            if step % 250 == 249 { driver.checkReplay() }
            if driver.stopped { break }
        }
        driver.checkReplay()
        for problem in driver.problems { Issue.record("run \(run) (seed \(seed)): \(problem)") }
        let votes = driver.room.statements.reduce(0) { $0 + $1.votes.count }
        print("fuzz: room run \(run): \(driver.steps) steps, \(driver.messages) messages, \(driver.records.count) records, "
            + "\(driver.room.participants.count) participants, \(votes) votes, \(driver.room.chat.count) chat messages, "
            + "\(driver.room.statements.count) statements in \(clock.now - started)")
        // The script must reach the interesting states, or the invariants prove little.
        #expect(driver.room.chat.count > 10 && votes > 10 && driver.room.participants.count > 10)
        #expect(driver.records.contains { if case .messageHidden = $0 { true } else { false } })
        #expect(driver.records.contains { if case .participantMuted = $0 { true } else { false } })
        #expect(driver.records.contains { if case .resultsRevealed = $0 { true } else { false } })
        // Revision 2.
        #expect(driver.room.questions.count > 3)
        #expect(driver.records.contains { if case .questionUpvoted = $0 { true } else { false } })
        #expect(driver.records.contains { if case .questionStateSet(_, .live, _) = $0 { true } else { false } })
        #expect(driver.records.contains { if case .questionStateSet(_, .answered, _) = $0 { true } else { false } }
            || driver.records.contains { if case .questionStateSet(_, .dismissed, _) = $0 { true } else { false } })
        #expect(driver.records.contains { if case .chatModeSet(.slow, _) = $0 { true } else { false } })
        #expect(driver.records.contains { if case .questionsOpened = $0 { true } else { false } })
    }

    /// Each seed from a connection in each state: not joined, participant, moderator, screen.
    @Test func everySeedFromEveryKindOfConnection() {
        var driver = RoomDriver(seed: 99)
        func join(_ json: String) -> ConnectionID {
            let connection = driver.connect()
            driver.send(Array(json.utf8), from: connection)
            return connection
        }
        let moderator = join("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(RoomDriver.key)\"}")
        driver.send(Array("{\"type\":\"next\"}".utf8), from: moderator)
        let participant = join("{\"type\":\"join\",\"name\":\"Anna\",\"group\":\"Rijk\"}")
        let screen = join("{\"type\":\"join\",\"role\":\"screen\"}")
        driver.send(Array("{\"type\":\"chat\",\"text\":\"eerste\"}".utf8), from: participant)
        for (_, bytes) in FuzzTests.corpus {
            for connection in [moderator, participant, screen] where driver.open.contains(connection) {
                driver.send(bytes, from: connection)
            }
            driver.send(bytes, from: driver.connect())
            driver.tick(advancing: 300)
        }
        driver.checkReplay()
        for problem in driver.problems { Issue.record(Comment(rawValue: problem)) }
        #expect(driver.open.contains(moderator) && driver.open.contains(participant) && driver.open.contains(screen))
    }

    static func show(_ bytes: [UInt8]) -> String {
        "[" + bytes.prefix(200).map { String($0, radix: 16) }.joined(separator: " ") + (bytes.count > 200 ? " …" : "") + "]"
    }
}

/// Chooses the next step for a RoomDriver: joins of every role with right and wrong keys, valid
/// and subtly wrong requests, mutated messages, disconnects, ticks and time.
struct Script {
    var random: SeededRandom
    let corpus: [[UInt8]]
    var refs = 0

    init(seed: UInt64, corpus: [[UInt8]]) {
        random = SeededRandom(seed: seed)
        self.corpus = corpus.isEmpty ? [Array("{\"type\":\"next\"}".utf8)] : corpus
    }

    static let texts = [
        "Goed punt!", "", "   ", "\u{3000}\t", "twee\nregels", String(repeating: "😀", count: 500), String(repeating: "x", count: 501),
        "e\u{301}", "nul\u{0}byte", "\"quoted\" \\ back/slash", "\u{2028}\u{2029}", "\u{FEFF}bom", "<script>alert(1)</script>", "=1+1",
    ]
    static let names = ["Anna", "  Bob  ", "Émilie", "李小龙", String(repeating: "n", count: 40), String(repeating: "n", count: 41),
                        "", " ", "An\u{7}na", "😀", "e\u{301}", "\u{85}x"]
    /// Weighted: votes and chat are what a room mostly hears.
    static let requestTypes = Array(repeating: "vote", count: 8) + Array(repeating: "chat", count: 5)
        + ["next", "goto", "close", "open", "open", "reveal", "reveal", "add", "hide", "hide", "mute", "mute", "announce", "erase", "dance"]
        // Revision 2.
        + ["ask", "ask", "ask", "upvote", "upvote", "upvote", "upvote", "chat_mode", "questions", "question_state", "question_state"]

    mutating func step(_ driver: inout RoomDriver) {
        if driver.open.count > 40 { driver.disconnect(random.pick(driver.open)); return }
        let roll = random.below(100)
        switch roll {
        case 0..<12:
            let connection = driver.connect()
            driver.send(join(driver), from: connection)
        case 12..<16 where !driver.open.isEmpty:
            driver.send(join(driver), from: random.pick(driver.open))
        case 16..<62 where !driver.open.isEmpty:
            let type = random.pick(Script.requestTypes)
            driver.send(request(type, driver), from: sender(for: type, driver))
        case 62..<78 where !driver.open.isEmpty:
            let base = random.chance(50) ? random.pick(corpus) : request(random.pick(Script.requestTypes), driver)
            let mutated = Mutator.mutate(base, other: random.pick(corpus), random: &random)
            driver.send(mutated, from: random.pick(driver.open))
        case 78..<83 where !driver.open.isEmpty:
            driver.disconnect(random.pick(driver.open))
        case 83..<95:
            driver.tick(advancing: Int64(random.below(1_500)))
        default:
            driver.advance(milliseconds: Int64(random.below(400)))
        }
    }

    /// Mostly a connection whose role may send this type, sometimes any.
    mutating func sender(for type: String, _ driver: RoomDriver) -> ConnectionID {
        let wanted: Role = ["chat", "vote", "ask", "upvote"].contains(type)
            ? (type == "chat" && random.chance(20) ? .moderator : .participant) : .moderator
        let fitting = driver.open.filter { driver.room.role(of: $0) == wanted }
        return !fitting.isEmpty && random.chance(80) ? random.pick(fitting) : random.pick(driver.open)
    }

    mutating func join(_ driver: RoomDriver) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.field("type", "join")
        addRef(&json)
        switch random.below(10) {
        case 0..<7:
            if random.chance(70) { json.field("role", "participant") }
            if random.chance(90) { json.field("name", random.pick(Script.names)) }
            if random.chance(60) { json.field("group", random.pick(["Rijk", "Gemeente", "Provincie", "Kennis", "\u{212A}ennis", "Café", "Cafe\u{301}", "Nope", "rijk", ""])) }
            if random.chance(20) {
                json.field("resume", !driver.tokens.isEmpty && random.chance(70) ? random.pick(driver.tokens) : "bogus-token")
            }
        case 7, 8:
            json.field("role", "moderator")
            if random.chance(90) { json.field("key", random.chance(75) ? RoomDriver.key : RoomDriver.key + "x") }
            if random.chance(60) { json.field("name", random.pick(["Ruben", "Sanne", "", "x\u{1}", String(repeating: "m", count: 41)])) }
        default:
            json.field("role", random.chance(90) ? "screen" : "king")
        }
        json.endObject()
        return json.bytes
    }

    mutating func request(_ type: String, _ driver: RoomDriver) -> [UInt8] {
        let room = driver.room
        var json = JSONWriter()
        json.beginObject()
        if random.chance(50) { addRef(&json) }
        json.field("type", type)
        if random.chance(50) { addRef(&json) }
        let statementIDs = room.statements.map(\.id.rawValue)
        func statement() -> String? {
            switch random.below(10) {
            case 0..<5: room.currentStatement?.rawValue ?? "s1"
            case 5..<8: random.pick(statementIDs.isEmpty ? ["s1"] : statementIDs)
            case 8: random.pick(["s99", "", "S1", "s1 "])
            default: nil
            }
        }
        switch type {
        case "ask":
            if random.chance(90) { json.field("text", random.pick(Script.texts + [String(repeating: "v", count: 301), "Waarom?"])) }
            if random.chance(60) { json.key("anonymous"); json.bool(random.chance(50)) }
        case "upvote", "question_state":
            if random.chance(95) {
                let count = room.questions.count
                json.field("question", random.chance(85) ? "q\(random.below(count + 2))" : random.pick(["x", "Q1", "q01", ""]))
            }
            if type == "upvote", random.chance(50) { json.key("up"); json.bool(random.chance(70)) }
            if type == "question_state", random.chance(95) {
                json.field("state", random.pick(["open", "live", "live", "answered", "dismissed", "pending", "gone"]))
            }
        case "chat_mode":
            if random.chance(95) { json.field("mode", random.pick(["open", "open", "slow", "slow", "closed", "fast"])) }
            if random.chance(60) { json.field("seconds", random.pick([5, 30, 600, 4, 601, 0])) }
        case "questions":
            if random.chance(90) { json.key("open"); json.bool(random.chance(60)) }
        case "chat", "add", "announce":
            if random.chance(90) {
                if random.chance(95) { json.field("text", random.pick(Script.texts)) } else { json.key("text"); json.integer(5) }
            }
        case "vote":
            if let id = statement() { json.field("statement", id) }
            if random.chance(95) { json.field("choice", random.pick(["agree", "disagree", "pass", "Agree", ""])) }
        case "goto":
            if let id = statement() { json.field("statement", id) }
        case "reveal":
            switch random.below(5) {
            case 0, 1: json.key("visible"); json.bool(true)
            case 2, 3: json.key("visible"); json.bool(false)
            case 4: json.field("visible", "yes")
            default: break
            }
        case "hide":
            if random.chance(95) {
                let count = room.chat.count
                if random.chance(85) { json.field("message", random.below(count + 2)) } else { json.field("message", random.pick([-1, Int.max, Int.min])) }
            }
        case "mute", "erase":
            let ids = room.participants.keys.map(\.rawValue).sorted()
            if random.chance(95) {
                var id = !ids.isEmpty && random.chance(85) ? random.pick(ids) : "p0000000"
                // The same id spelled with the Kelvin sign, canonically equivalent to "K".
                if random.chance(30) { id = id.replacingOccurrences(of: "K", with: "\u{212A}") }
                json.field("participant", id)
            }
            if type == "mute", random.chance(80) { json.key("muted"); json.bool(random.chance(60)) }
        default:
            break
        }
        json.endObject()
        return json.bytes
    }

    /// A `ref`: none, a fresh one, 64 code points (valid), 65 (invalid), a number (invalid), escapes.
    mutating func addRef(_ json: inout JSONWriter) {
        switch random.below(20) {
        case 0..<8: return
        case 8..<16: refs += 1; json.field("ref", "r\(refs)")
        case 16: json.field("ref", String(repeating: "é", count: 64))
        case 17: json.field("ref", String(repeating: "r", count: 65))
        case 18: json.key("ref"); json.integer(7)
        default: refs += 1; json.field("ref", "line\nbreak\u{2028}\(refs)")
        }
    }
}

/// Inputs the fuzz tests found wrong answers for (docs/FUZZING.md, Findings).
@Suite struct FuzzRegressionTests {
    /// Swift's String == is canonical equivalence: "\u{212A}ennis" (Kelvin sign) equals "Kennis"
    /// and "Cafe\u{301}" equals "Café". A join was accepted with such a group, and the room stored
    /// the client's spelling, which no configured group has byte for byte (exports showed it).
    @Test(arguments: ["\\u212Aennis", "Cafe\u{301}"])
    func aGroupSpelledDifferentlyIsStoredAsConfigured(asked: String) throws {
        var harness = Harness(Harness.configuration(groups: ["Kennis", "Café"]))
        let connection = harness.connection()
        let deliveries = harness.send("{\"type\":\"join\",\"name\":\"Anna\",\"group\":\"\(asked)\"}", from: connection)
        guard case let .welcome(welcome, _)? = deliveries.first?.event else { Issue.record("no welcome: \(deliveries)"); return }
        let group = try #require(welcome.you.group)
        #expect(["Kennis", "Café"].contains { Array($0.unicodeScalars) == Array(group.unicodeScalars) })
        guard case let .participantJoined(_, _, stored?, _, _)? = harness.records.last else { Issue.record("no join record"); return }
        #expect(Array(stored.unicodeScalars) == Array(group.unicodeScalars))
    }

    /// A mute naming "p\u{212A}000000" matched the participant "pK000000" but the record kept the
    /// request's spelling, an id no participant has byte for byte.
    @Test func aMuteRecordNamesTheParticipantsOwnId() {
        var harness = Harness()
        harness.room.apply(.participantJoined(id: "pK000000", name: "Anna", group: nil, tokenHash: "x", at: harness.clock))
        let moderator = harness.moderator()
        let deliveries = harness.send("{\"type\":\"mute\",\"participant\":\"p\\u212A000000\",\"ref\":\"m\"}", from: moderator)
        #expect(deliveries.to(moderator) == [.ack(ref: "m", id: nil)])
        guard case let .participantMuted(id, true, _)? = harness.records.last else { Issue.record("no mute record"); return }
        #expect(Array(id.rawValue.unicodeScalars) == Array("pK000000".unicodeScalars))
        #expect(harness.room.participants["pK000000"]?.muted == true)
    }
}
