import Foundation
import StellingCore

/// `questions` (PROTOCOL.md Revision 2): N participants; `--senders` of them (default a tenth, at
/// most 100) ask one question each; then every participant upvotes one question that is not their
/// own, in ten bursts spread over `--duration` seconds (default 10). Every upvote must be
/// acknowledged, the counts the server reports must equal the acknowledged upvotes exactly, and
/// each upvoter measures how long until an `upvotes` event shows its question's new count.
struct QuestionScenario {
    let load: LoadRun

    /// The run's state; every member is used under the swarm's lock.
    final class Traffic: SwarmListener {
        let first: Int
        let askers: [Int]
        let observer: Int
        var questionOf: [Int: String] = [:]
        var askAnswered = 0
        var askRefused: [String: Int] = [:]
        /// The question each client upvotes (nil: none to upvote).
        var target: [Int: String] = [:]
        var sentAt: [Int: UInt64] = [:]
        var ackedAt: [Int: UInt64] = [:]
        var refused: [String: Int] = [:]
        var answered = 0
        var ackedPerQuestion: [String: Int] = [:]
        /// Upvote sent to its ack.
        var ackLatency = LatencyHistogram()
        /// Upvote sent to the first `upvotes` event (after the ack) with the question's count.
        var countLatency = LatencyHistogram()
        var waitingForCount: Set<Int> = []
        /// The counts the observer last saw per question, and how many `upvotes` events it got.
        var observed: [String: Int] = [:]
        var observerEvents = 0
        var firstSend: UInt64 = 0
        var lastAck: UInt64 = 0

        init(participants: Range<Int>, askers: Int) {
            first = participants.lowerBound
            self.askers = spread(askers, over: participants)
            observer = participants.lowerBound
        }

        func received(_ event: ServerEvent, client: Int, at now: UInt64, out: inout Outbox) {
            switch event.kind {
            case .ack, .error:
                guard let ref = event.ref else { return }
                if ref.kind == UInt8(ascii: "a") {
                    askAnswered += 1
                    if event.kind == .ack, let id = event.string(#""id":""#) {
                        questionOf[client] = id
                    } else {
                        askRefused[event.string(#""code":""#) ?? "error", default: 0] += 1
                    }
                } else if ref.kind == UInt8(ascii: "u"), let sent = sentAt[client], ackedAt[client] == nil {
                    answered += 1
                    lastAck = now
                    if event.kind == .ack, let question = target[client] {
                        ackedAt[client] = now
                        ackedPerQuestion[question, default: 0] += 1
                        ackLatency.record(nanoseconds: now - sent)
                        waitingForCount.insert(client)
                    } else {
                        ackedAt[client] = 0
                        refused[event.string(#""code":""#) ?? "error", default: 0] += 1
                    }
                }
            case .upvotes:
                guard client == observer || waitingForCount.contains(client) else { return }
                guard let counts = event.parsed()?.object("counts") else { return }
                if client == observer {
                    observerEvents += 1
                    for (question, value) in counts { if case let .integer(count) = value { observed[question] = Int(count) } }
                }
                if waitingForCount.contains(client), let question = target[client], counts[question] != nil, let sent = sentAt[client] {
                    countLatency.record(nanoseconds: now - sent)
                    waitingForCount.remove(client)
                }
            default:
                break
            }
        }

        /// Picks each client's question: spread over the questions, never the client's own.
        func plan(clients: Range<Int>) {
            let questions = askers.compactMap { questionOf[$0] }
            guard !questions.isEmpty else { return }
            for client in clients {
                var pick = (client * 7919) % questions.count
                if questions[pick] == questionOf[client] {
                    guard questions.count > 1 else { continue }
                    pick = (pick + 1) % questions.count
                }
                target[client] = questions[pick]
            }
        }

        var countsExact: Bool {
            ackedPerQuestion.allSatisfy { observed[$0.key] == $0.value }
        }

        func status() -> String {
            "\(sentAt.count) upvotes sent, \(answered) answered, \(waitingForCount.count) waiting for a count"
        }
    }

    func run() throws(LoadError) -> LoadReport {
        let swarm = load.swarm
        let options = load.options
        let participants = swarm.add(options.clients, role: .participant)
        let askerCount = options.senders ?? max(1, min(100, options.clients / 10))
        let traffic = Traffic(participants: participants, askers: askerCount)
        swarm.listen(traffic)
        var report = LoadReport(scenario: "questions", clients: options.clients)
        try load.joinAll(participants)
        let welcomed = swarm.withState { $0.counters.welcomed }
        guard welcomed == participants.count else {
            throw LoadError("only \(welcomed) of \(participants.count) participants joined: \(swarm.failureSummary())")
        }

        for asker in traffic.askers {
            swarm.send(asker, "{\"type\":\"ask\",\"text\":\"Load question from client \(asker)?\",\"anonymous\":\(asker % 2 == 0),\"ref\":\"a\(asker)\"}")
        }
        try swarm.wait(until: load.deadline, for: "every question to be answered", progress: load.progress,
                       status: { _ in "\(traffic.askAnswered) of \(traffic.askers.count) questions answered" }) { _ in
            traffic.askAnswered == traffic.askers.count
        }
        swarm.withLock { traffic.plan(clients: participants) }
        let upvoters = swarm.withLock { participants.filter { traffic.target[$0] != nil } }

        load.startMeasuring()
        let seconds = options.chatDuration(for: .chat)
        let bursts = 10
        let start = monotonicNanoseconds()
        swarm.withLock { traffic.firstSend = start }
        for burst in 0..<bursts {
            let due = start + UInt64(Double(burst) * seconds / Double(bursts) * 1e9)
            sleep(untilNanoseconds: due)
            guard monotonicNanoseconds() < load.deadline else { throw LoadError("timed out while upvoting: " + swarm.withLock { traffic.status() }) }
            let slice = upvoters[(burst * upvoters.count / bursts)..<((burst + 1) * upvoters.count / bursts)]
            for client in slice {
                let question = swarm.withLock { () -> String in
                    traffic.sentAt[client] = monotonicNanoseconds()
                    return traffic.target[client]!
                }
                swarm.send(client, "{\"type\":\"upvote\",\"question\":\"\(question)\",\"ref\":\"u\(client)\"}")
            }
            load.progress?.show(swarm.withLock { traffic.status() })
        }
        try swarm.wait(until: load.deadline, for: "every upvote to be answered", progress: load.progress,
                       status: { _ in traffic.status() }) { _ in
            traffic.answered == upvoters.count
        }
        // Counts: at most every 500 ms; give them up to 5 s more.
        let drainEnd = min(load.deadline, monotonicNanoseconds() + 5_000_000_000)
        try? swarm.wait(until: drainEnd, for: "the last counts", progress: load.progress, status: { _ in traffic.status() }) { _ in
            traffic.countsExact && traffic.waitingForCount.isEmpty
        }
        load.stopMeasuring()

        swarm.withState { state in
            let acked = traffic.ackedPerQuestion.values.reduce(0, +)
            let window = traffic.lastAck > traffic.firstSend ? Double(traffic.lastAck - traffic.firstSend) / 1e9 : 0
            report.add("questions", "questions asked", Double(traffic.questionOf.count))
            report.add("upvotes_sent", "upvotes sent", Double(traffic.sentAt.count))
            report.add("upvotes_acked", "upvotes acknowledged", Double(acked))
            report.add("first_upvote_to_last_ack_s", "first upvote to the last ack", window, "s")
            report.add("upvote_ack_p50_ms", "upvote to ack p50", Double(traffic.ackLatency.percentile(0.5)) / 1000, "ms")
            report.add("upvote_ack_p99_ms", "upvote to ack p99", Double(traffic.ackLatency.percentile(0.99)) / 1000, "ms")
            report.add("upvotes_event_p50_ms", "upvote to its count in an upvotes event p50",
                       Double(traffic.countLatency.percentile(0.5)) / 1000, "ms")
            report.add("upvotes_event_p99_ms", "upvote to its count in an upvotes event p99",
                       Double(traffic.countLatency.percentile(0.99)) / 1000, "ms")
            report.add("upvotes_events", "upvotes events one participant received", Double(traffic.observerEvents))
            report.check("every question acknowledged", traffic.questionOf.count == traffic.askers.count,
                         "\(traffic.questionOf.count) of \(traffic.askers.count)" + traffic.askRefused.map { ", \($0.value)× \($0.key)" }.joined())
            report.check("every upvote acknowledged", acked == upvoters.count,
                         "\(acked) of \(upvoters.count)" + traffic.refused.map { ", \($0.value)× \($0.key)" }.joined())
            let wrong = traffic.ackedPerQuestion.filter { traffic.observed[$0.key] != $0.value }
            report.check("counts equal the acks", wrong.isEmpty,
                         wrong.isEmpty ? "\(traffic.ackedPerQuestion.count) questions" :
                            wrong.sorted { $0.key < $1.key }.prefix(3).map { "\($0.key): \(traffic.observed[$0.key] ?? 0) shown, \($0.value) acked" }.joined(separator: "; "))
            report.check("every upvoter saw its count", traffic.waitingForCount.isEmpty, "\(traffic.waitingForCount.count) still waiting")
            report.check("nobody dropped", state.counters.dropped == 0, "\(state.counters.dropped) dropped")
        }
        return report
    }
}
