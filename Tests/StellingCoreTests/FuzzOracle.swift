// The checks shared by the Swift Testing fuzz tests (FuzzTests.swift) and the libFuzzer entry
// point (fuzz/, which links this file through a symbolic link). Public API of StellingCore only,
// no Foundation, no Testing: every check returns the problems it found as text.

import StellingCore
#if canImport(StellingTesting)
import StellingTesting
#endif

// MARK: Randomness and mutation

// The generator is StellingTesting's SeededRandom (the fuzz harness links its file).

/// Byte-level mutations of seeds: bit flips, inserts, deletes, splices, truncation.
enum Mutator {
    /// Bytes that matter to a JSON parser and to UTF-8 validation.
    static let interestingBytes: [UInt8] = [
        0x00, 0x09, 0x0A, 0x0D, 0x20, 0x22, 0x2C, 0x2D, 0x2E, 0x30, 0x31, 0x39, 0x3A, 0x45, 0x5B, 0x5C, 0x5D,
        0x65, 0x6E, 0x74, 0x75, 0x7B, 0x7D, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xFF,
    ]

    /// Fragments worth inserting whole.
    static let interestingTokens: [[UInt8]] = [
        "\\u", "\\ud83d", "\\ude00", "\\ud83d\\ude00", "\\u0000", "\\", "\"", "\":", ",\"", "{", "}", "[", "]",
        "null", "true", "false", "1e999", "-0", "9223372036854775808", "1.5", "\"ref\":\"r\"", "\"ref\":5,",
        "\"type\":\"join\",", "\"type\":\"chat\",", "\"text\":", "\"statement\":\"s1\"", "[[[[[[[[[[[[[[[[",
        "\u{FEFF}", "\u{2028}", "é", "😀", "\u{212A}",
    ].map { Array($0.utf8) }

    /// Applies one to four random mutations; `other` is a second seed for splicing.
    static func mutate(_ input: [UInt8], other: [UInt8], random: inout SeededRandom) -> [UInt8] {
        var bytes = input
        for _ in 0..<(random.chance(50) ? 1 : 2 + random.below(3)) {
            switch random.below(9) {
            case 0 where !bytes.isEmpty: // flip one bit
                let index = random.below(bytes.count)
                bytes[index] ^= UInt8(1) << UInt8(random.below(8))
            case 1: // insert a byte
                bytes.insert(random.chance(50) ? random.pick(interestingBytes) : UInt8(truncatingIfNeeded: random.next()),
                             at: random.below(bytes.count + 1))
            case 2 where !bytes.isEmpty: // delete a run of bytes
                let start = random.below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(4)))
            case 3 where !bytes.isEmpty: // overwrite a byte
                bytes[random.below(bytes.count)] = random.pick(interestingBytes)
            case 4: // splice: a prefix of this one and a suffix of the other
                let cut = random.below(bytes.count + 1)
                let otherCut = random.below(other.count + 1)
                bytes = Array(bytes[..<cut]) + Array(other[otherCut...])
            case 5 where !bytes.isEmpty: // truncate
                bytes.removeSubrange(random.below(bytes.count)...)
            case 6: // insert a token
                bytes.insert(contentsOf: random.pick(interestingTokens), at: random.below(bytes.count + 1))
            case 7 where !bytes.isEmpty: // duplicate a chunk
                let start = random.below(bytes.count)
                let chunk = bytes[start..<min(bytes.count, start + 1 + random.below(16))]
                bytes.insert(contentsOf: Array(chunk), at: random.below(bytes.count + 1))
            default: // swap two bytes
                guard bytes.count >= 2 else { continue }
                bytes.swapAt(random.below(bytes.count), random.below(bytes.count))
            }
        }
        return bytes
    }

    /// Random bytes: uniform, or drawn from JSON's alphabet so the parser gets past the first byte.
    static func randomBytes(random: inout SeededRandom) -> [UInt8] {
        let count = random.below(random.chance(10) ? 2048 : 48)
        let alphabet = Array("{}[]\":,\\ tfnrue0123456789-.+eEabu\u{00e9}".utf8) + interestingBytes
        let uniform = random.chance(50)
        return (0..<count).map { _ in uniform ? UInt8(truncatingIfNeeded: random.next()) : random.pick(alphabet) }
    }
}

// MARK: JSON

enum JSONOracle {
    /// Writes a parsed value back through JSONWriter, object keys in byte order.
    static func write(_ value: JSONValue, into json: inout JSONWriter) {
        switch value {
        case .null: json.null()
        case let .bool(flag): json.bool(flag)
        case let .integer(number): json.integer(Int(number))
        case let .number(number): json.number(number)
        case let .string(text): json.string(text)
        case let .array(elements):
            json.beginArray()
            for element in elements { write(element, into: &json) }
            json.endArray()
        case let .object(members):
            json.beginObject()
            for (key, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                json.key(key)
                write(member, into: &json)
            }
            json.endObject()
        }
    }

    static func encode(_ value: JSONValue) -> [UInt8] {
        var json = JSONWriter()
        write(value, into: &json)
        return json.bytes
    }

    /// Equality down to the code points of every string and key and the bits of every number
    /// (Swift's `String ==` compares canonical equivalence, which would hide a changed text).
    static func identical(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.number(a), .number(b)): return a.bitPattern == b.bitPattern
        case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.array(a), .array(b)): return a.count == b.count && zip(a, b).allSatisfy { identical($0, $1) }
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let index = b.index(forKey: key), b[index].key.unicodeScalars.elementsEqual(key.unicodeScalars),
                      identical(value, b[index].value) else { return false }
            }
            return true
        default: return false
        }
    }

    /// Parses `bytes`; whatever is accepted must re-encode through JSONWriter to text without raw
    /// control characters that parses back to the identical value, and encoding again gives the
    /// same bytes. Returns the problem, or `nil`.
    static func roundTripProblem(_ bytes: [UInt8]) -> String? {
        guard let value = JSONValue.parse(bytes) else { return nil }
        let encoded = encode(value)
        if let raw = encoded.first(where: { $0 < 0x20 }) {
            return "re-encoding holds raw control byte \(raw)"
        }
        guard let again = JSONValue.parse(encoded) else {
            return "re-encoding does not parse: \(String(decoding: encoded.prefix(200), as: UTF8.self))"
        }
        guard identical(value, again) else { return "round trip changed the value: \(value) became \(again)" }
        guard encode(again) == encoded else { return "second encoding differs from the first" }
        return nil
    }
}

// MARK: Generated JSON

/// Random JSON values written as text by an encoder independent of JSONWriter, choosing among
/// the equivalent spellings (every escape form, surrogate pairs, raw UTF-8, white space): the
/// parser must read back exactly the generated value. The round trip through JSONWriter cannot
/// see a parser and writer that agree on a wrong meaning; this can.
enum GeneratedJSON {
    static let scalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\u{08}", "\u{0C}", "\n", "\r", "\t", "\u{00}", "\u{1F}", "\u{7F}",
        "é", "\u{301}", "\u{212A}", "\u{2028}", "\u{FEFF}", "\u{FFFF}", "漢", "😀", "\u{10FFFF}", "\u{E000}",
    ]

    static func value(depth: Int, random: inout SeededRandom) -> JSONValue {
        switch random.below(depth >= 6 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(random.chance(50))
        case 2:
            return .integer(random.pick([0, 1, -1, Int64.max, Int64.min, Int64(truncatingIfNeeded: random.next()) >> random.below(64)]))
        case 3:
            let number = random.pick([0.5, -0.0, 1e300, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 0.1, -123.456e-7,
                                      Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF)])
            return .number(number)
        case 4: return .string(string(random: &random))
        case 5: return .array((0..<random.below(4)).map { _ in value(depth: depth + 1, random: &random) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.below(4) { members[string(random: &random)] = value(depth: depth + 1, random: &random) }
            return .object(members)
        }
    }

    static func string(random: inout SeededRandom) -> String {
        var view = String.UnicodeScalarView()
        for _ in 0..<random.below(8) { view.append(random.pick(scalars)) }
        return String(view)
    }

    /// JSON text for `value`, each character spelled in a randomly chosen valid way.
    static func text(_ value: JSONValue, random: inout SeededRandom) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out, random: &random)
        return out
    }

    private static func space(_ out: inout [UInt8], random: inout SeededRandom) {
        if random.chance(20) { out.append(random.pick([0x20, 0x09, 0x0A, 0x0D])) }
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], random: inout SeededRandom) {
        space(&out, random: &random)
        switch value {
        case .null: out += Array("null".utf8)
        case let .bool(flag): out += Array((flag ? "true" : "false").utf8)
        case let .integer(number): out += Array(String(number).utf8)
        case let .number(number):
            // Swift's shortest round-trip form; a whole number gets an exponent so it stays a `number`.
            var text = number.description
            if !text.contains(".") && !text.contains("e") { text += "e0" }
            if random.chance(30), let e = text.firstIndex(of: "e") { text.replaceSubrange(e...e, with: "E") }
            out += Array(text.utf8)
        case let .string(text): writeString(text, into: &out, random: &random)
        case let .array(elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out, random: &random)
            }
            space(&out, random: &random)
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, member)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                space(&out, random: &random)
                writeString(key, into: &out, random: &random)
                space(&out, random: &random)
                out.append(UInt8(ascii: ":"))
                write(member, into: &out, random: &random)
            }
            space(&out, random: &random)
            out.append(UInt8(ascii: "}"))
        }
        space(&out, random: &random)
    }

    private static func writeString(_ text: String, into out: inout [UInt8], random: inout SeededRandom) {
        let hex = Array("0123456789abcdefABCDEF".utf8)
        func u(_ unit: UInt32) {
            out += [0x5C, UInt8(ascii: "u")]
            for shift in [12, 8, 4, 0] {
                let digit = Int(unit >> UInt32(shift) & 0xF)
                out.append(digit >= 10 && random.chance(50) ? hex[digit + 6] : hex[digit])
            }
        }
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            let short: [Unicode.Scalar: UInt8] = ["\"": 0x22, "\\": 0x5C, "/": 0x2F, "\u{08}": 0x62, "\u{0C}": 0x66,
                                                 "\n": 0x6E, "\r": 0x72, "\t": 0x74]
            let mustEscape = scalar == "\"" || scalar == "\\" || scalar.value < 0x20
            if let letter = short[scalar], mustEscape || random.chance(50), random.chance(70) {
                out += [0x5C, letter]
            } else if mustEscape || random.chance(30) {
                if scalar.value > 0xFFFF {
                    let value = scalar.value - 0x10000
                    u(0xD800 + (value >> 10)); u(0xDC00 + (value & 0x3FF))
                } else {
                    u(scalar.value)
                }
            } else {
                out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Generates a value, spells it, parses it: the parse must be exactly the value.
    static func problem(random: inout SeededRandom) -> String? {
        let value = value(depth: 0, random: &random)
        let text = text(value, random: &random)
        guard let parsed = JSONValue.parse(text) else { return "rejected \(String(decoding: text, as: UTF8.self)) for \(value)" }
        guard JSONOracle.identical(parsed, value) else { return "\(String(decoding: text, as: UTF8.self)) parsed as \(parsed), not \(value)" }
        return nil
    }
}

// MARK: Request.decode

enum DecodeOracle {
    /// The wire name of a request's type.
    static func typeName(_ body: Request.Body) -> String {
        switch body {
        case .join: "join"
        case .chat: "chat"
        case .vote: "vote"
        case .next: "next"
        case .goto: "goto"
        case .close: "close"
        case .open: "open"
        case .reveal: "reveal"
        case .add: "add"
        case .hide: "hide"
        case .mute: "mute"
        case .announce: "announce"
        case .erase: "erase"
        case .chatMode: "chat_mode"
        case .ask: "ask"
        case .upvote: "upvote"
        case .questions: "questions"
        case .questionState: "question_state"
        }
    }

    /// A request as JSON text, written with JSONWriter (for the decode round trip).
    static func encode(_ request: Request) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.field("type", typeName(request.body))
        if let ref = request.ref { json.field("ref", ref) }
        func optional(_ name: String, _ value: String?) { if let value { json.field(name, value) } }
        switch request.body {
        case let .join(join):
            json.field("role", join.role.rawValue)
            optional("name", join.name); optional("group", join.group); optional("key", join.key); optional("resume", join.resume)
        case let .chat(text), let .add(text): optional("text", text)
        case let .vote(statement, choice): optional("statement", statement); optional("choice", choice)
        case let .goto(statement): optional("statement", statement)
        case .next, .close, .open: break
        case let .reveal(visible): json.key("visible"); json.bool(visible)
        case let .hide(message): if let message { json.field("message", Int(message)) }
        case let .mute(participant, muted): optional("participant", participant); json.key("muted"); json.bool(muted)
        case let .announce(text): json.field("text", text)
        case let .erase(participant): optional("participant", participant)
        case let .chatMode(mode, seconds): optional("mode", mode); if let seconds { json.field("seconds", Int(seconds)) }
        case let .ask(text, anonymous): optional("text", text); json.key("anonymous"); json.bool(anonymous)
        case let .upvote(question, up): optional("question", question); json.key("up"); json.bool(up)
        case let .questions(open): json.key("open"); json.bool(open)
        case let .questionState(question, state): optional("question", question); optional("state", state)
        }
        json.endObject()
        return json.bytes
    }

    /// `Request.decode` must give a defined answer: a request whose type is the message's `type`
    /// and that survives encoding and decoding again, or a failure with a message for people
    /// that carries the `ref` exactly when the message had a valid one.
    static func problem(_ bytes: [UInt8]) -> String? {
        let result = Request.decode(bytes)
        guard result == Request.decode(bytes) else { return "decoding twice gave two answers" }
        let parsed = JSONValue.parse(bytes)
        var validRef: String?
        var refReadable = false
        if case let .object(fields)? = parsed {
            switch fields["ref"] {
            case nil, .null?: refReadable = true
            case let .string(ref)? where ref.unicodeScalars.count <= Request.maximumRefLength: validRef = ref; refReadable = true
            default: break
            }
        }
        switch result {
        case let .success(request):
            guard case let .object(fields)? = parsed else { return "decoded a message that is not a JSON object" }
            guard refReadable, request.ref == validRef else { return "decoded with ref \(String(describing: request.ref))" }
            guard case let .string(type)? = fields["type"], type == typeName(request.body) else {
                return "decoded as \(typeName(request.body)) but the type field is \(String(describing: fields["type"]))"
            }
            let again = Request.decode(encode(request))
            guard case let .success(decodedAgain) = again, decodedAgain == request, encode(decodedAgain) == encode(request)
            else { return "re-encoded request decodes to \(again) instead of \(request)" }
            return nil
        case let .failure(failure):
            if failure.message.isEmpty { return "failure without a message" }
            if let ref = failure.ref {
                guard ref == validRef, ref.unicodeScalars.elementsEqual(validRef!.unicodeScalars) else {
                    return "failure carries ref \(ref) but the message's valid ref is \(String(describing: validRef))"
                }
            } else if validRef != nil {
                return "failure lost the valid ref \(validRef!)"
            }
            return nil
        }
    }
}

// MARK: The room

/// One event as it reached one connection.
struct FuzzDelivery {
    var to: ConnectionID
    var event: Event
}

/// Drives a Room as the shell does (every record durable at once, broadcasts resolved to the
/// connections admitted so far) and checks invariants after every step. Problems are collected
/// in `problems`, each with the step it happened at.
struct RoomDriver {
    static let key = "moderator-secret-key"
    /// "Kennis" and "Café" have canonically equivalent spellings in other code points
    /// ("\u{212A}ennis" with the Kelvin sign, "Cafe\u{301}"), which Swift's `==` and hashing treat as equal.
    static let groups = ["Rijk", "Provincie", "Gemeente", "Kennis", "Café"]

    private(set) var room: Room
    var random: SeededRandom
    private(set) var clock = Instant(milliseconds: 1_610_715_600_000)
    private(set) var records: [Record] = []
    private(set) var problems: [String] = []
    private(set) var steps = 0
    private(set) var messages = 0

    /// Connections not closed, in the order they were made.
    private(set) var open: [ConnectionID] = []
    /// What each open, joined connection was told it is in its welcome.
    private(set) var joined: [ConnectionID: You] = [:]
    /// Resume tokens handed out in welcomes.
    private(set) var tokens: [String] = []
    private var nextConnection: UInt64 = 1
    private var lastPresence: Int?

    init(groups: Bool = true, statements: Int = 3, seed: UInt64) {
        let configuration = Configuration(
            title: "Fuzz",
            programme: [ProgrammeItem(time: "14:00", item: "Welkom")],
            groups: groups ? RoomDriver.groups : [],
            statements: (0..<statements).map { StatementSpec(id: "s\($0 + 1)", text: "Stelling \($0 + 1)") },
            moderatorKey: RoomDriver.key,
            tallyIntervalMilliseconds: 250)
        room = Room(configuration: configuration)
        random = SeededRandom(seed: seed)
    }

    var stopped: Bool { problems.count >= 20 }

    mutating func report(_ problem: String) {
        if problems.count < 20 { problems.append("step \(steps): \(problem)") }
    }

    /// A new, not yet joined connection.
    mutating func connect() -> ConnectionID {
        defer { nextConnection += 1 }
        let connection = ConnectionID(nextConnection)
        open.append(connection)
        return connection
    }

    mutating func advance(milliseconds: Int64) { clock.milliseconds += milliseconds }

    /// The transport closed a connection.
    mutating func disconnect(_ connection: ConnectionID) {
        steps += 1
        room.disconnect(connection)
        forget(connection)
        checkRoom()
    }

    /// Time passes; the room sends what is due.
    mutating func tick(advancing milliseconds: Int64) {
        steps += 1
        advance(milliseconds: milliseconds)
        let deliveries = carryOut(room.tick(now: clock), sender: nil)
        for delivery in deliveries {
            switch delivery.event {
            case .presence, .tally, .upvotes: break
            default: report("tick sent \(delivery.event)")
            }
        }
        checkRoom()
    }

    /// One client message from a connection, with every per-message invariant checked.
    @discardableResult
    mutating func send(_ bytes: [UInt8], from connection: ConnectionID) -> [FuzzDelivery] {
        steps += 1
        messages += 1
        let wasJoined = room.role(of: connection) != nil
        if wasJoined != (joined[connection] != nil) { report("\(connection): room and welcomes disagree on joined") }
        let decoded = Request.decode(bytes)
        var ref: String?
        var request: Request?
        switch decoded {
        case let .success(value): request = value; ref = value.ref
        case let .failure(failure): ref = failure.ref
        }
        let recordsBefore = records.count
        let participantsBefore = room.participants.count
        let joinedBefore = joined
        let effects = room.receive(bytes, from: connection, now: clock, random: &random)
        let closesBefore = closedNow.count
        let deliveries = carryOut(effects, sender: connection)
        let closes = closedNow[closesBefore...]
        let newRecords = records[recordsBefore...]
        let mine = deliveries.filter { $0.to == connection }.map(\.event)
        let what = "\(String(decoding: bytes.prefix(120), as: UTF8.self)) from \(connection)"

        // The ref: exactly one answer carries it, to the sender; nothing else carries a ref.
        var answersWithRef = 0
        for delivery in deliveries {
            guard let carried = delivery.event.ref else { continue }
            if delivery.to != connection || carried != ref { report("\(what): \(delivery.to) got ref \(carried)") }
            answersWithRef += 1
        }
        if answersWithRef != (ref == nil ? 0 : 1) { report("\(what): \(answersWithRef) answers carry the ref \(ref ?? "-")") }
        let answers = mine.filter(\.isAnswer)
        if answers.count > 1 { report("\(what): \(answers.count) answers \(answers)") }
        if ref != nil, answers.count != 1 { report("\(what): a request with a ref got \(answers.count) answers") }

        // A malformed message: bad_request and nothing else.
        if request == nil {
            let expected = mine.count == 1 && deliveries.count == 1 && mine[0].errorCode == .badRequest
            if !expected || !newRecords.isEmpty || !closes.isEmpty { report("\(what): malformed message got \(deliveries)") }
        }

        if !wasJoined {
            // A connection that has not joined only ever hears about its join.
            let allowed: Set<ErrorCode> = [.notJoined, .badRequest, .invalidName, .invalidGroup, .unauthorized]
            for delivery in deliveries {
                if delivery.to != connection { report("\(what): \(delivery.to) heard \(delivery.event) about a join"); continue }
                switch delivery.event {
                case .welcome: break
                case let .error(code, _, _) where allowed.contains(code): break
                default: report("\(what): not joined, got \(delivery.event)")
                }
            }
            if let request {
                if case .join = request.body {} else if mine.map(\.errorCode) != [.notJoined] {
                    report("\(what): not joined, \(DecodeOracle.typeName(request.body)) got \(mine)")
                }
            }
            if mine.contains(where: { $0.errorCode == .unauthorized }) {
                if Array(closes.map(\.0)) != [connection] || closes.first?.1 != .policyViolation || room.role(of: connection) != nil {
                    report("\(what): unauthorized without a close 1008")
                }
            } else if !closes.isEmpty {
                report("\(what): closed without unauthorized")
            }
            let joinRecords = newRecords.filter { if case .participantJoined = $0 { true } else { false } }
            if newRecords.count != joinRecords.count || joinRecords.count > 1 { report("\(what): records \(Array(newRecords))") }
            if room.participants.count - participantsBefore != joinRecords.count { report("\(what): participants grew without a record") }
        } else {
            // Only an erasure closes joined connections: those of the erased participant, with 4001.
            let erased = newRecords.compactMap { if case let .participantErased(id, _, _) = $0 { id } else { nil } }
            let erasedConnectionsOnly = erased.count == 1
                && closes.allSatisfy { $0.1 == .erased && joinedBefore[$0.0]?.id == erased[0] && joinedBefore[$0.0]?.role == .participant }
            if !closes.isEmpty, !erasedConnectionsOnly { report("\(what): joined connection closed") }
            if let id = erased.first, room.participants[id] != nil || joinedBefore.contains(where: { $0.value.id == id && room.role(of: $0.key) != nil }) {
                report("\(what): the erased participant \(id) is still in the room")
            }
            if let request, case .join = request.body, mine.map(\.errorCode) != [.badRequest] {
                report("\(what): second join got \(mine)")
            }
        }

        // A welcome: the connection is joined as what the welcome says.
        for event in mine {
            guard case let .welcome(welcome, _) = event else { continue }
            guard room.role(of: connection) == welcome.you.role, room.identity(of: connection) == welcome.you.id else {
                report("\(what): welcomed as \(welcome.you) but the room says \(String(describing: room.role(of: connection)))")
                continue
            }
            if welcome.you.role == .participant {
                if room.participants[welcome.you.id] == nil { report("\(what): welcomed an unknown participant") }
                if let token = welcome.resume { tokens.append(token) } else { report("\(what): participant welcome without a token") }
            } else if welcome.resume != nil {
                report("\(what): \(welcome.you.role) welcome carries a token")
            }
            if welcome.present != room.present { report("\(what): welcome says \(welcome.present) present, room \(room.present)") }
            if welcome.chat.count > Room.welcomeChatCount || welcome.chat.contains(where: \.hidden) {
                report("\(what): welcome chat holds \(welcome.chat.count) messages or a hidden one")
            }
            joined[connection] = welcome.you
        }

        // A chat ack carries the id of the message it accepted.
        for event in mine {
            if case let .ack(_, .message(id)?) = event, id.rawValue != room.chat.count {
                report("\(what): chat ack \(id) but \(room.chat.count) messages")
            }
        }
        checkRoom()
        return deliveries
    }

    /// Rebuilds the room from the records and compares it with the live one.
    mutating func checkReplay() {
        let replayed = Room(configuration: room.configuration, replaying: records)
        if replayed.statements != room.statements { report("replay: statements differ") }
        if replayed.participants != room.participants { report("replay: participants differ") }
        if replayed.chat != room.chat { report("replay: chat differs") }
        if replayed.currentState != room.currentState { report("replay: current \(String(describing: replayed.currentState)) != \(String(describing: room.currentState))") }
        if replayed.announcement != room.announcement { report("replay: announcement differs") }
        if replayed.questions != room.questions { report("replay: questions differ") }
        if replayed.chatMode != room.chatMode { report("replay: chat mode differs") }
        if replayed.questionsOpen != room.questionsOpen { report("replay: questions open differs") }
    }

    // MARK: Internals

    private var closedNow: [(ConnectionID, CloseCode)] = []
    private var checkedRecords = 0

    private func same(_ left: String, _ right: String) -> Bool { left.unicodeScalars.elementsEqual(right.unicodeScalars) }

    /// Whether a participant has exactly this id, code point for code point.
    private func exists(_ id: ParticipantID) -> Bool {
        guard let index = room.participants.index(forKey: id) else { return false }
        return same(room.participants[index].value.id.rawValue, id.rawValue)
    }

    private mutating func forget(_ connection: ConnectionID) {
        open.removeAll { $0 == connection }
        joined.removeValue(forKey: connection)
    }

    private mutating func carryOut(_ effects: [Effect], sender: ConnectionID?) -> [FuzzDelivery] {
        var deliveries: [FuzzDelivery] = []
        for effect in effects {
            switch effect {
            case let .send(connection, event):
                deliveries.append(FuzzDelivery(to: connection, event: event))
            case let .broadcast(event, audience):
                if event.ref != nil { report("a broadcast carries a ref: \(event)") }
                for connection in room.recipients(of: audience, admittedUpTo: room.admissions).sorted() {
                    deliveries.append(FuzzDelivery(to: connection, event: event))
                }
            case let .persist(record, then):
                records.append(record)
                deliveries += carryOut(then, sender: sender)
            case let .close(connection, code):
                closedNow.append((connection, code))
                room.disconnect(connection)
                forget(connection)
            }
        }
        for delivery in deliveries { checkDelivery(delivery) }
        return deliveries
    }

    /// Every event encodes to one line of valid JSON; tallies obey their sums and audiences.
    private mutating func checkDelivery(_ delivery: FuzzDelivery) {
        let bytes = delivery.event.encoded()
        if bytes.contains(0x0A) { report("\(delivery.event) encodes with a raw newline") }
        guard case let .object(fields)? = JSONValue.parse(bytes, maximumDepth: 64), case .string? = fields["type"] else {
            report("\(delivery.event) does not encode to a JSON object with a type")
            return
        }
        switch delivery.event {
        case let .tally(tally):
            if case let .integer(voters)? = fields["voters"], case let .integer(agree)? = fields["agree"],
               case let .integer(disagree)? = fields["disagree"], case let .integer(pass)? = fields["pass"] {
                if voters != agree + disagree + pass || agree < 0 || disagree < 0 || pass < 0 { report("tally sums: \(tally)") }
            } else {
                report("tally fields missing: \(String(decoding: bytes, as: UTF8.self))")
            }
            if let groups = tally.groups {
                if groups.map(\.name) != room.configuration.groups { report("tally groups \(groups.map(\.name))") }
                let grouped = groups.reduce(0) { $0 + $1.counts.total }
                if grouped > tally.voters || groups.contains(where: { $0.counts.agree < 0 || $0.counts.disagree < 0 || $0.counts.pass < 0 }) {
                    report("tally groups exceed the totals: \(tally)")
                }
            }
            let role = room.role(of: delivery.to)
            if role != .moderator, room.statement(tally.statement)?.resultsVisible != true {
                report("\(delivery.to) (\(String(describing: role))) got the hidden tally of \(tally.statement)")
            }
        case let .chat(message):
            if case let .object(wire)? = fields["message"], case let .string(text)? = wire["text"],
               text.unicodeScalars.elementsEqual(message.text.unicodeScalars) {} else { report("chat text changed on the wire: \(message)") }
        case let .presence(present):
            if present != room.present { report("presence \(present) but \(room.present) present") }
        case let .question(view):
            // Revision 2: who may see a question, and its asker.
            let role = room.role(of: delivery.to)
            let me = room.identity(of: delivery.to)
            switch view {
            case let .whole(question, showAsker):
                let privileged = role == .moderator || (role == .participant && me == question.asker)
                if !question.state.isPublic, !privileged { report("\(delivery.to) got \(question.state) \(question.id) whole") }
                if showAsker, !privileged, question.anonymous { report("\(delivery.to) saw the asker of anonymous \(question.id)") }
                if case .object(let wire)? = fields["question"], question.anonymous, !privileged, wire["from"] != .null {
                    report("anonymous \(question.id) encodes a from to \(delivery.to)")
                }
            case let .dismissed(id):
                if role == .moderator { report("moderator got the dismissed stub of \(id)") }
            }
        case let .upvotes(counts):
            for count in counts {
                guard let number = count.question.number, number <= room.questions.count else { report("upvotes of unknown \(count.question)"); continue }
                if !room.questions[number - 1].state.isPublic { report("upvotes of \(room.questions[number - 1].state) \(count.question)") }
            }
        default: break
        }
        if room.role(of: delivery.to) == nil, delivery.event.ref == nil, delivery.event.errorCode == nil {
            report("\(delivery.to) is not joined and got \(delivery.event)")
        }
    }

    /// Invariants of the room's state after every step.
    private mutating func checkRoom() {
        // present equals the distinct participants with a live (welcomed, not closed) connection.
        let live = Set(joined.values.filter { $0.role == .participant }.map(\.id))
        if room.present != live.count { report("present \(room.present) but \(live.count) participants connected") }
        let sessions = room.joinedConnections.values.reduce(0, +)
        if sessions != joined.count { report("room has \(sessions) joined connections, welcomes say \(joined.count)") }
        // Tallies: totals equal the participants with a vote, voters the sum of the choices.
        let groups = room.configuration.groups
        for statement in room.statements {
            var counts = Counts()
            var byGroup: [String: Counts] = [:]
            for (participant, choice) in statement.votes {
                counts.add(choice, 1)
                if let group = room.participants[participant]?.group, groups.contains(group) { byGroup[group, default: Counts()].add(choice, 1) }
                if room.participants[participant] == nil { report("\(statement.id) has a vote of unknown \(participant)") }
            }
            if statement.counts != counts || counts.total != statement.votes.count {
                report("\(statement.id) counts \(statement.counts) but votes \(counts)")
            }
            for group in groups where (statement.groupCounts[group] ?? Counts()) != (byGroup[group] ?? Counts()) {
                report("\(statement.id) group \(group) counts differ")
            }
            guard let tally = room.tally(of: statement.id) else { report("no tally of \(statement.id)"); continue }
            if tally.voters != tally.counts.agree + tally.counts.disagree + tally.counts.pass || tally.counts != counts
                || tally.present != room.present {
                report("tally of \(statement.id) is \(tally)")
            }
        }
        // Revision 2: counts equal the upvoters, nobody upvotes their own question, at most one is live.
        for (index, question) in room.questions.enumerated() {
            let upvoters = room.upvoters(of: question.id)
            if question.upvotes != upvoters.count { report("\(question.id) shows \(question.upvotes) of \(upvoters.count)") }
            if upvoters.contains(question.asker) { report("\(question.asker) upvotes their own \(question.id)") }
            if question.id != QuestionID(number: index + 1) { report("question \(index) is \(question.id)") }
        }
        if room.questions.filter({ $0.state == .live }).count > 1 { report("more than one live question") }
        // Ids and groups in the state and in the records are spelled exactly as the room made them
        // (Swift's String == is canonical equivalence; storage and exports compare bytes).
        for (id, participant) in room.participants {
            if !same(id.rawValue, participant.id.rawValue) { report("participant \(participant.id) is filed under \(id)") }
            if let group = participant.group, !groups.contains(where: { same($0, group) }) {
                report("participant \(participant.id) has group \(Array(group.unicodeScalars)), not a configured spelling")
            }
        }
        for record in records[checkedRecords...] {
            switch record {
            case let .participantMuted(id, _, _), let .voteCast(_, id, _, _):
                if !exists(id) { report("record \(record) names a participant id no participant has") }
            case let .participantJoined(_, _, group?, _, _):
                if !groups.contains(where: { same($0, group) }) { report("record \(record) has an unconfigured group spelling") }
            default: break
            }
        }
        checkedRecords = records.count
        // Chat ids are 1...n with no gaps.
        for (index, message) in room.chat.enumerated() where message.id.rawValue != index + 1 {
            report("chat message \(index + 1) has id \(message.id)")
            break
        }
        if let current = room.currentState, room.statement(current.statement) == nil { report("current statement unknown") }
    }
}

extension Event {
    /// The `ref` an event carries, if any.
    var ref: String? {
        switch self {
        case let .welcome(_, ref): ref
        case let .ack(ref, _): ref
        case let .error(_, _, ref): ref
        case let .rateLimited(_, _, ref): ref
        default: nil
        }
    }

    /// Whether the event answers a request: welcome, ack or error.
    var isAnswer: Bool {
        switch self {
        case .welcome, .ack, .error, .rateLimited: true
        default: false
        }
    }

    var errorCode: ErrorCode? {
        switch self {
        case let .error(code, _, _): code
        case .rateLimited: .rateLimited
        default: nil
        }
    }
}
