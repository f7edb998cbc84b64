/// One statement put to the vote: the votes sent and acknowledged, their latencies, and the
/// moderator's tallies before and after, so the final tally can be checked against the acks.
///
/// Thread rule: guarded by the swarm's lock.
final class Ballot {
    /// The choices, in the order a vote's ref encodes them.
    static let choices = ["agree", "disagree", "pass"]
    /// Refs are `v<number>`, number = (ballot × maxClients + client) × 4 + choice.
    static let maxClients = 100_000

    let number: Int
    let statement: String
    /// When `next` (or `goto`) was sent, on the monotonic clock.
    var shownAt: UInt64 = 0
    /// The number of the moderator command that showed it, and that closed it.
    var showCommand: Int?
    var closeCommand: Int?
    private(set) var sent = 0
    private(set) var acked = 0
    private(set) var refused: [String: Int] = [:]
    private(set) var lastAck: UInt64 = 0
    private var sentAt: [UInt64]
    /// The last acknowledged choice of every client, -1 for none.
    private var choice: [Int8]
    private var pendingByClient: [Int16]
    /// From `next` to each ack.
    private(set) var sinceShown = LatencyHistogram()
    /// From each vote to its ack.
    private(set) var sinceVote = LatencyHistogram()

    init(number: Int, statement: String, clients: Int) {
        self.number = number
        self.statement = statement
        sentAt = [UInt64](repeating: 0, count: clients)
        choice = [Int8](repeating: -1, count: clients)
        pendingByClient = [Int16](repeating: 0, count: clients)
    }

    /// The vote request of `client` for choice `choice` (0 agree, 1 disagree, 2 pass); records it as sent.
    func vote(client: Int, choice: Int, at now: UInt64) -> String {
        sent += 1
        sentAt[client] = now
        pendingByClient[client] += 1
        let ref = ((number * Self.maxClients) + client) * 4 + choice
        return #"{"type":"vote","statement":"\#(statement)","choice":"\#(Self.choices[choice])","ref":"v\#(ref)"}"#
    }

    /// Whether `client` has a vote on this ballot still unanswered.
    func hasPending(_ client: Int) -> Bool { pendingByClient[client] > 0 }

    /// Whether `client` has an acknowledged vote.
    func hasVoted(_ client: Int) -> Bool { choice[client] >= 0 }

    /// Whether every vote sent was answered.
    var allAnswered: Bool { acked + refused.values.reduce(0, +) == sent }

    /// Handles the answer to a vote of this ballot; false for anything else.
    func handle(_ event: ServerEvent, at now: UInt64) -> Bool {
        guard event.kind == .ack || event.kind == .error, let ref = event.ref, ref.kind == UInt8(ascii: "v"),
              ref.number / 4 / Self.maxClients == number else { return false }
        let client = (ref.number / 4) % Self.maxClients
        guard client < choice.count else { return false }
        pendingByClient[client] -= 1
        if event.kind == .ack {
            acked += 1
            choice[client] = Int8(ref.number % 4)
            lastAck = max(lastAck, now)
            sinceShown.record(nanoseconds: now > shownAt ? now - shownAt : 0)
            sinceVote.record(nanoseconds: now > sentAt[client] ? now - sentAt[client] : 0)
        } else {
            refused[event.string(#""code":""#) ?? "error", default: 0] += 1
        }
        return true
    }

    /// The tally the acknowledged votes add up to.
    var expected: Counts {
        var counts = Counts()
        for value in choice where value >= 0 {
            counts.voters += 1
            switch value {
            case 0: counts.agree += 1
            case 1: counts.disagree += 1
            default: counts.pass += 1
            }
        }
        return counts
    }

    /// Whether the moderator's final tally, less what the statement counted before it was shown,
    /// equals the acks.
    func tallyCheck(_ moderator: Moderator) -> (passed: Bool, detail: String) {
        guard let show = showCommand, let baseline = moderator.tally(of: statement, before: show) else {
            return (false, "\(statement): the show command was not answered")
        }
        guard let close = closeCommand, let final = moderator.tally(of: statement, after: close) else {
            return (false, "\(statement): no tally when closed")
        }
        let counted = final - baseline
        return (counted == expected, counted == expected ? "\(statement): \(counted)"
                    : "\(statement): server counted \(counted), acks say \(expected)")
    }

    /// A short account for progress lines.
    func status() -> String { "\(statement): \(sent) votes sent, \(acked) acked" }
}
