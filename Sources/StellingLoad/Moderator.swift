import StellingCore

/// Agree, disagree and pass counts and the number of voters, as a `tally` event carries them.
struct Counts: Equatable, Sendable, CustomStringConvertible {
    var agree = 0
    var disagree = 0
    var pass = 0
    var voters = 0

    static func - (lhs: Counts, rhs: Counts) -> Counts {
        Counts(agree: lhs.agree - rhs.agree, disagree: lhs.disagree - rhs.disagree,
               pass: lhs.pass - rhs.pass, voters: lhs.voters - rhs.voters)
    }

    var description: String { "agree \(agree), disagree \(disagree), pass \(pass), voters \(voters)" }
}

/// The moderator's connection as the scenarios use it: numbered commands with their answers,
/// the statements as the server lists them, and every tally in the order it arrived.
///
/// Thread rule: guarded by the swarm's lock (`handle` runs with it held; driver calls take it).
final class Moderator {
    /// How the server answered a command.
    enum Answer: Equatable {
        /// Acknowledged; `id` is the new statement's for `add`; `tallies` is how many tallies had arrived before it.
        case ack(id: String?, tallies: Int)
        /// Refused with this error code.
        case error(String)
    }

    let client: Int
    private(set) var statements: [String] = []
    private(set) var current: String?
    private(set) var groups: [String] = []
    private(set) var tallies: [(statement: String, counts: Counts)] = []
    private var answers: [Int: Answer] = [:]
    private var sent = 0

    init(client: Int) {
        self.client = client
    }

    /// Reads the statements, the current one and the groups from the moderator's welcome.
    func welcomed(_ event: ServerEvent) {
        guard let session = event.parsed()?.object("session") else { return }
        readStatements(session.array("statements"))
        current = session.object("current")?.string("statement")
        groups = (session.array("groups") ?? []).compactMap { if case let .string(name) = $0 { name } else { nil } }
    }

    /// Handles an event for the moderator's connection; false when it is not the moderator's business.
    func handle(_ event: ServerEvent) -> Bool {
        switch event.kind {
        case .ack:
            guard let ref = event.ref, ref.kind == UInt8(ascii: "m") else { return false }
            answers[ref.number] = .ack(id: event.string(#""id":""#), tallies: tallies.count)
        case .error:
            guard let ref = event.ref, ref.kind == UInt8(ascii: "m") else { return false }
            answers[ref.number] = .error(event.string(#""code":""#) ?? "error")
        case .tally:
            guard let tally = event.parsed(), let statement = tally.string("statement") else { return false }
            tallies.append((statement, Counts(agree: tally.int("agree") ?? 0, disagree: tally.int("disagree") ?? 0,
                                              pass: tally.int("pass") ?? 0, voters: tally.int("voters") ?? 0)))
        case .statement:
            guard let statement = event.parsed() else { return false }
            current = statement.object("current")?.string("statement")
            readStatements(statement.array("statements"))
        default:
            return false
        }
        return true
    }

    private func readStatements(_ list: [JSONValue]?) {
        guard let list else { return }
        statements = list.compactMap { if case let .object(item) = $0 { item.string("id") } else { nil } }
    }

    /// What `statement` counted before command `number` was answered: its last tally that arrived
    /// before the answer, or zero when it had none (a statement shown for the first time). The
    /// first tally after a `next` is no baseline: under load the console's queue keeps only the
    /// newest tally of a statement, so it may already hold the first votes.
    func tally(of statement: String, before number: Int) -> Counts? {
        guard case let .ack(_, mark)? = answers[number] else { return nil }
        return tallies[..<mark].last { $0.statement == statement }?.counts ?? Counts()
    }

    /// The first tally of `statement` that arrived after the answer to command `number`.
    func tally(of statement: String, after number: Int) -> Counts? {
        guard case let .ack(_, mark)? = answers[number] else { return nil }
        return tallies[mark...].first { $0.statement == statement }?.counts
    }

    /// Whether every command sent has been answered.
    var allAnswered: Bool { answers.count == sent }

    /// The commands refused, as `number: code`.
    var refusals: [String] {
        answers.sorted { $0.key < $1.key }.compactMap { if case let .error(code) = $0.value { "\($0.key): \(code)" } else { nil } }
    }

    /// The answer to command `number`, once it came.
    func answer(_ number: Int) -> Answer? { answers[number] }

    // MARK: Driver side (takes the lock)

    /// Sends a command (`fields` without `ref`); returns its number.
    @discardableResult
    func send(_ fields: [(String, JSONFieldValue)], swarm: Swarm) -> Int {
        let number = swarm.withLock { () -> Int in
            sent += 1
            return sent
        }
        var json = JSONWriter()
        json.beginObject()
        for (key, value) in fields {
            switch value {
            case let .string(text): json.field(key, text)
            case let .integer(value): json.field(key, value)
            case let .bool(value): json.key(key); json.bool(value)
            }
        }
        json.field("ref", "m\(number)")
        json.endObject()
        swarm.send(client, String(decoding: json.bytes, as: UTF8.self))
        return number
    }

    /// Sends a command and waits for its answer; throws at the deadline. Returns the command's number too.
    func run(_ fields: [(String, JSONFieldValue)], load: LoadRun) throws(LoadError) -> (number: Int, answer: Answer) {
        let number = send(fields, swarm: load.swarm)
        let what = fields.first.map { "the answer to \($0.1)" } ?? "an answer"
        try load.swarm.wait(until: load.deadline, for: what, progress: load.progress, status: { _ in "moderator waiting" }) { _ in
            answers[number] != nil
        }
        return (number, load.swarm.withLock { answers[number]! })
    }

    /// The ids of the next `count` statements that `next` will show, adding statements when too few remain.
    func upcoming(_ count: Int, load: LoadRun) throws(LoadError) -> [String] {
        let (list, current) = load.swarm.withLock { (statements, self.current) }
        let start = current.flatMap { list.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
        var ids = Array(list[min(start, list.count)...].prefix(count))
        while ids.count < count {  // bounded by `count`
            let answer = try run([("type", "add"), ("text", .string("Load test statement \(ids.count + 1)"))], load: load)
            guard case let .ack(id?, _) = answer.answer else { throw LoadError("the server refused to add a statement: \(answer.answer)") }
            ids.append(id)
        }
        return ids
    }
}

/// A value in a moderator command.
enum JSONFieldValue: ExpressibleByStringLiteral, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case bool(Bool)

    init(stringLiteral value: String) { self = .string(value) }

    var description: String {
        switch self {
        case let .string(text): text
        case let .integer(value): "\(value)"
        case let .bool(value): "\(value)"
        }
    }
}
