/// `votes`: N participants and a moderator. The moderator sends `next`, every participant votes
/// the moment it sees the statement open, and once every vote is acknowledged the moderator
/// sends `close`; the tally it then receives must equal the acknowledged votes exactly.
struct VoteScenario {
    let load: LoadRun

    /// Votes on seeing the statement open; hands answers to the ballot and the moderator.
    private final class Listener: SwarmListener {
        let moderator: Moderator
        var ballot: Ballot?
        init(_ moderator: Moderator) { self.moderator = moderator }

        func welcomed(_ client: Int, _ event: ServerEvent, at now: UInt64, out: inout Outbox) {
            if client == moderator.client { moderator.welcomed(event) }
        }

        func received(_ event: ServerEvent, client: Int, at now: UInt64, out: inout Outbox) {
            if client == moderator.client {
                _ = moderator.handle(event)
                return
            }
            guard let ballot else { return }
            if event.kind == .statement {
                guard !ballot.hasPending(client), !ballot.hasVoted(client),
                      event.string(#""statement":""#) == ballot.statement,
                      event.offset(after: #""voting":"open""#) != nil else { return }
                out.send(client, ballot.vote(client: client, choice: client % 3, at: now))
            } else {
                _ = ballot.handle(event, at: now)
            }
        }
    }

    func run() throws(LoadError) -> LoadReport {
        let swarm = load.swarm
        let count = load.options.clients
        var report = LoadReport(scenario: "votes", clients: count)
        let moderatorIndex = swarm.add(1, role: .moderator, prefix: "Load moderator").lowerBound
        let moderator = Moderator(client: moderatorIndex)
        let listener = Listener(moderator)
        swarm.listen(listener)
        try load.joinAll(moderatorIndex..<moderatorIndex + 1, label: "the moderator to join")
        guard swarm.withState({ $0.clients[moderatorIndex].phase == .joined }) else {
            throw LoadError("the moderator could not join: \(swarm.failureSummary())")
        }
        let groups = swarm.withLock { moderator.groups }
        let participants = swarm.add(count, role: .participant, groups: groups)
        try load.joinAll(participants)
        let welcomed = swarm.withState { $0.counters.welcomed } - 1
        guard welcomed == count else {
            throw LoadError("only \(welcomed) of \(count) participants joined: \(swarm.failureSummary())")
        }

        let statement = try moderator.upcoming(1, load: load)[0]
        let storeBefore = ServerMetrics.read(load.options.url)
        let ballot = Ballot(number: 0, statement: statement, clients: swarm.withState { $0.clients.count })
        load.startMeasuring()
        swarm.withLock {
            listener.ballot = ballot
            ballot.shownAt = monotonicNanoseconds()
        }
        let show = try moderator.run([("type", "next")], load: load)
        guard case .ack = show.answer else { throw LoadError("the server refused next: \(show.answer)") }
        swarm.withLock { ballot.showCommand = show.number }
        try swarm.wait(until: load.deadline, for: "every vote to be answered", progress: load.progress,
                       status: { _ in ballot.status() }) { _ in
            ballot.sent == count && ballot.allAnswered
        }
        load.stopMeasuring()
        // Every acknowledged vote is committed: the store's counters now hold the whole burst.
        let storeAfter = ServerMetrics.read(load.options.url)
        let close = try moderator.run([("type", "close")], load: load)
        guard case .ack = close.answer else { throw LoadError("the server refused close: \(close.answer)") }
        swarm.withLock { ballot.closeCommand = close.number }
        try swarm.wait(until: load.deadline, for: "the final tally", progress: load.progress, status: { _ in "waiting for the tally" }) { _ in
            ballot.closeCommand.flatMap { moderator.tally(of: statement, after: $0) } != nil
        }

        swarm.withState { state in
            let seconds = ballot.lastAck > ballot.shownAt ? Double(ballot.lastAck - ballot.shownAt) / 1e9 : 0
            report.add("votes_sent", "votes sent", Double(ballot.sent))
            report.add("votes_acked", "votes acknowledged", Double(ballot.acked))
            report.add("next_to_last_ack_s", "next to the last ack", seconds, "s")
            report.add("votes_per_s", "votes acknowledged a second", seconds > 0 ? Double(ballot.acked) / seconds : 0, "/s")
            report.add("ack_since_next_p50_ms", "next to ack p50", Double(ballot.sinceShown.percentile(0.5)) / 1000, "ms")
            report.add("ack_since_next_p99_ms", "next to ack p99", Double(ballot.sinceShown.percentile(0.99)) / 1000, "ms")
            report.add("ack_p50_ms", "vote to ack p50", Double(ballot.sinceVote.percentile(0.5)) / 1000, "ms")
            report.add("ack_p99_ms", "vote to ack p99", Double(ballot.sinceVote.percentile(0.99)) / 1000, "ms")
            if let before = storeBefore, let after = storeAfter,
               let transactions = after["stelling_store_transactions_total"].map({ $0 - (before["stelling_store_transactions_total"] ?? 0) }),
               let records = after["stelling_store_records_total"].map({ $0 - (before["stelling_store_records_total"] ?? 0) }) {
                // From `next` to the last ack: the `next` record and every vote.
                report.add("store_transactions", "store transactions for the burst", transactions)
                report.add("store_records", "store records for the burst", records)
            }
            report.check("every vote acknowledged", ballot.acked == count,
                         "\(ballot.acked) of \(count)" + ballot.refused.map { ", \($0.value)× \($0.key)" }.joined())
            let tally = ballot.tallyCheck(moderator)
            report.check("tally equals the acks", tally.passed, tally.detail)
            report.check("nobody dropped", state.counters.dropped == 0, "\(state.counters.dropped) dropped")
        }
        return report
    }
}
