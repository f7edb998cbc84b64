/// `event`: a seminar compressed into `duration` seconds, to rehearse a real event end to end.
///
/// A moderator and a presenter screen join, then 80 % of the participants; the moderator pins
/// an announcement; chat runs the whole time; five statements are shown one after another,
/// each with a burst of votes spread over the first 40 % of its slot, one voter in ten
/// changing their mind halfway, results revealed at 60 % and voting closed at 80 %. The
/// other 20 % join late (in the second slot), one participant in ten leaves in the third,
/// and the moderator hides a chat message in the fourth. Checks: everyone welcomed, every
/// chat message delivered to everyone present throughout, every vote acknowledged, each
/// statement's final tally equal to its acknowledged votes, every moderator command acknowledged.
struct EventScenario {
    let load: LoadRun
    static let rounds = 5

    /// Routes each event to the chat traffic, the ballots or the moderator.
    private final class Listener: SwarmListener {
        let moderator: Moderator
        let traffic: ChatTraffic
        var ballots: [Ballot] = []
        var hidden = 0
        var announcements = 0

        init(moderator: Moderator, traffic: ChatTraffic) {
            self.moderator = moderator
            self.traffic = traffic
        }

        func welcomed(_ client: Int, _ event: ServerEvent, at now: UInt64, out: inout Outbox) {
            if client == moderator.client { moderator.welcomed(event) }
        }

        func received(_ event: ServerEvent, client: Int, at now: UInt64, out: inout Outbox) {
            if client == moderator.client, moderator.handle(event) { return }
            if traffic.handle(event, client: client, at: now) { return }
            for ballot in ballots.reversed() where ballot.handle(event, at: now) { return }
            switch event.kind {
            case .hidden: hidden += 1
            case .announcement: announcements += 1
            default: break
            }
        }
    }

    /// Something the moderator or the audience does at a moment of the event.
    private enum Step {
        case show(Int), reveal(Int), close(Int), lateJoin, leave, hide
    }

    /// A vote to send at a moment.
    private struct PlannedVote {
        var at: UInt64
        var client: Int
        var ballot: Int
        var choice: Int
    }

    func run() throws(LoadError) -> LoadReport {
        let swarm = load.swarm
        let options = load.options
        let count = options.clients
        let seconds = options.chatDuration(for: .event)
        let slot = seconds / Double(Self.rounds)
        var report = LoadReport(scenario: "event", clients: count)

        let moderatorIndex = swarm.add(1, role: .moderator, prefix: "Load moderator").lowerBound
        let screenIndex = swarm.add(1, role: .screen).lowerBound
        let moderator = Moderator(client: moderatorIndex)
        // Until the participants exist (they need the groups from the moderator's welcome), only the moderator listens.
        final class Early: SwarmListener {
            let moderator: Moderator
            init(_ moderator: Moderator) { self.moderator = moderator }
            func welcomed(_ client: Int, _ event: ServerEvent, at now: UInt64, out: inout Outbox) {
                if client == moderator.client { moderator.welcomed(event) }
            }
            func received(_ event: ServerEvent, client: Int, at now: UInt64, out: inout Outbox) {
                if client == moderator.client { _ = moderator.handle(event) }
            }
        }
        swarm.listen(Early(moderator))
        try load.joinAll(moderatorIndex..<screenIndex + 1, label: "the moderator and the screen to join")
        guard swarm.withState({ $0.clients[moderatorIndex].phase == .joined && $0.clients[screenIndex].phase == .joined }) else {
            throw LoadError("the moderator or the screen could not join: \(swarm.failureSummary())")
        }
        let groups = swarm.withLock { moderator.groups }
        let late = count / 5
        let early = swarm.add(count - late, role: .participant, groups: groups)
        let lateJoiners = swarm.add(late, role: .participant, prefix: "Late", groups: groups)
        let senders = spread(options.senderCount, over: early)
        let senderSet = Set(senders)
        let leavers = early.filter { !senderSet.contains($0) && $0 % 10 == 3 }
        let leaverSet = Set(leavers)
        let stable = early.filter { !leaverSet.contains($0) }
        let total = swarm.withState { $0.clients.count }
        let traffic = ChatTraffic(senders: senders, rate: options.rate, seconds: seconds, clients: total)
        let routing = Listener(moderator: moderator, traffic: traffic)
        swarm.listen(routing)

        try load.joinAll(early)
        let earlyJoin = swarm.withState { ($0.counters.firstJoinStart, $0.counters.lastWelcome, $0.counters.welcomed) }
        guard earlyJoin.2 == early.count + 2 else {
            throw LoadError("only \(earlyJoin.2 - 2) of \(early.count) participants joined: \(swarm.failureSummary())")
        }
        let statements = try moderator.upcoming(Self.rounds, load: load)
        let welcome = try moderator.run([("type", "announce"), ("text", "Welkom bij de generale repetitie")], load: load)
        guard case .ack = welcome.answer else { throw LoadError("the server refused announce: \(welcome.answer)") }

        // The plan: moderator steps and audience steps at fixed moments.
        load.startMeasuring()
        traffic.begin(swarm: swarm)
        let start = swarm.withLock { traffic.start }
        func at(_ fraction: Double) -> UInt64 { start + UInt64(fraction * slot * 1e9) }
        var steps: [(UInt64, Step)] = []
        for round in 0..<Self.rounds {
            let base = Double(round)
            steps += [(at(base), .show(round)), (at(base + 0.6), .reveal(round)), (at(base + 0.8), .close(round))]
        }
        steps += [(at(1.1), .lateJoin), (at(2.7), .leave), (at(3.2), .hide)]
        steps.sort { $0.0 < $1.0 }
        var nextStep = 0
        var votes: [PlannedVote] = []
        var nextVote = 0
        var nextProgress = monotonicNanoseconds() + 1_000_000_000
        let end = at(Double(Self.rounds))

        while true {  // bounded by the plan and the deadline
            let now = monotonicNanoseconds()
            guard now < load.deadline else {
                throw LoadError("timed out during the event: " + swarm.withLock { traffic.status() })
            }
            while nextStep < steps.count, steps[nextStep].0 <= now {
                let step = steps[nextStep].1
                nextStep += 1
                switch step {
                case let .show(round):
                    let ballot = Ballot(number: round, statement: statements[round], clients: total)
                    let voters = swarm.withState { state -> [Int] in
                        ballot.shownAt = monotonicNanoseconds()
                        routing.ballots.append(ballot)
                        return (early.lowerBound..<lateJoiners.upperBound).filter { state.clients[$0].phase == .joined }
                    }
                    let number = moderator.send([("type", "next")], swarm: swarm)
                    swarm.withLock { ballot.showCommand = number }
                    votes.removeSubrange(..<nextVote)
                    nextVote = 0
                    votes += plan(voters: voters, round: round, base: at(Double(round)), slot: slot, leavers: leaverSet)
                    votes.sort { $0.at < $1.at }
                case .reveal:
                    moderator.send([("type", "reveal"), ("visible", .bool(true))], swarm: swarm)
                case let .close(round):
                    let number = moderator.send([("type", "close")], swarm: swarm)
                    swarm.withLock { routing.ballots[round].closeCommand = number }
                case .lateJoin:
                    swarm.join(lateJoiners)
                case .leave:
                    let going = swarm.withLock { leavers.filter { client in !routing.ballots.contains { $0.hasPending(client) } } }
                    for client in going { swarm.leave(client) }
                case .hide:
                    if let id = swarm.withLock({ traffic.firstMessageID }) {
                        moderator.send([("type", "hide"), ("message", .integer(id))], swarm: swarm)
                    }
                }
            }
            while nextVote < votes.count, votes[nextVote].at <= now {
                let vote = votes[nextVote]
                nextVote += 1
                let text = swarm.withState { state -> String? in
                    guard state.clients[vote.client].phase == .joined else { return nil }
                    return routing.ballots[vote.ballot].vote(client: vote.client, choice: vote.choice, at: monotonicNanoseconds())
                }
                if let text { swarm.send(vote.client, text) }
            }
            let nextChat = swarm.withLock { traffic.doneSending } ? UInt64.max : traffic.sendDue(swarm: swarm)
            if nextStep == steps.count && nextVote == votes.count && nextChat == .max && now >= end { break }
            if now >= nextProgress {
                load.progress?.show(swarm.withLock { traffic.status() + ", " + (routing.ballots.last?.status() ?? "no statement yet") })
                nextProgress = now + 1_000_000_000
            }
            let wake = min(nextStep < steps.count ? steps[nextStep].0 : .max, nextVote < votes.count ? votes[nextVote].at : .max,
                           nextChat, now + 5_000_000)
            sleep(untilNanoseconds: wake)
        }

        // Drain: every answer, delivery and final tally, or at most 10 s more.
        let drainEnd = min(load.deadline, monotonicNanoseconds() + 10_000_000_000)
        try? swarm.wait(until: drainEnd, for: "the last answers", progress: load.progress, status: { _ in traffic.status() }) { state in
            traffic.allAnswered && moderator.allAnswered && state.pendingJoins == 0
                && routing.ballots.allSatisfy { $0.allAnswered }
                && stable.allSatisfy { Int(traffic.received[$0]) >= traffic.accepted }
                && routing.ballots.allSatisfy { ballot in ballot.closeCommand.flatMap { moderator.tally(of: ballot.statement, after: $0) } != nil }
        }
        load.stopMeasuring()

        swarm.withState { state in
            let counters = state.counters
            let joinSeconds = earlyJoin.1 > earlyJoin.0 ? Double(earlyJoin.1 - earlyJoin.0) / 1e9 : 0
            report.add("joined", "participants welcomed (early and late)", Double(counters.welcomed - 2))
            report.add("early_join_s", "first 80 % joined in", joinSeconds, "s")
            report.add("left", "participants who left", Double(counters.left))
            let window = traffic.lastDelivery > traffic.start ? Double(traffic.lastDelivery - traffic.start) / 1e9 : seconds
            traffic.report(into: &report, receivers: stable, window: window)
            var sinceVote = LatencyHistogram()
            var slowest = 0.0
            for ballot in routing.ballots {
                sinceVote.merge(ballot.sinceVote)
                slowest = max(slowest, ballot.lastAck > ballot.shownAt ? Double(ballot.lastAck - ballot.shownAt) / 1e9 : 0)
            }
            let sent = routing.ballots.reduce(0) { $0 + $1.sent }
            let acked = routing.ballots.reduce(0) { $0 + $1.acked }
            report.add("votes_sent", "votes sent", Double(sent))
            report.add("votes_acked", "votes acknowledged", Double(acked))
            report.add("ack_p50_ms", "vote to ack p50", Double(sinceVote.percentile(0.5)) / 1000, "ms")
            report.add("ack_p99_ms", "vote to ack p99", Double(sinceVote.percentile(0.99)) / 1000, "ms")
            report.add("next_to_last_ack_s", "next to the last ack (slowest statement)", slowest, "s")
            report.add("hidden_seen", "hide events received", Double(routing.hidden))
            report.check("every participant welcomed", counters.welcomed == count + 2 && counters.joinFailures == 0,
                         counters.joinFailures == 0 ? "\(counters.welcomed - 2) of \(count)" : state.failureSummary())
            report.check("every vote acknowledged", acked == sent && sent > 0, "\(acked) of \(sent)")
            let tallies = routing.ballots.map { $0.tallyCheck(moderator) }
            report.check("every tally equals its acks", tallies.count == Self.rounds && tallies.allSatisfy(\.passed),
                         tallies.filter { !$0.passed }.map(\.detail).joined(separator: "; ").ifEmpty("\(tallies.count) statements"))
            report.check("every moderator command acknowledged", moderator.allAnswered && moderator.refusals.isEmpty,
                         moderator.refusals.joined(separator: ", ").ifEmpty("all"))
            report.check("everyone present saw the hide", traffic.firstMessageID == nil || routing.hidden >= stable.count,
                         "\(routing.hidden) hide events, \(stable.count) present throughout")
            report.check("nobody dropped", counters.dropped == 0,
                         counters.dropped == 0 ? "0 dropped" : "\(counters.dropped) dropped: " + state.failureSummary())
        }
        return report
    }

    /// Each voter votes once at a moment spread over the first 40 % of the slot; one in ten (not
    /// a leaver) changes their vote halfway through the slot.
    private func plan(voters: [Int], round: Int, base: UInt64, slot: Double, leavers: Set<Int>) -> [PlannedVote] {
        var plan: [PlannedVote] = []
        plan.reserveCapacity(voters.count + voters.count / 10 + 1)
        for client in voters {
            let spread = Double((client &* 2_654_435_761 &+ round &* 97) % 1000) / 1000
            let choice = Self.choice(client: client, round: round, camps: load.options.camps)
            plan.append(PlannedVote(at: base + UInt64((0.05 + 0.35 * spread) * slot * 1e9), client: client, ballot: round, choice: choice))
            // One in ten changes their mind; with planted camps only those who voted against their camp, back to it.
            let camps = load.options.camps
            let second = camps > 0 ? Self.leaning(client: client, round: round, camps: camps) : (choice + 1) % 3
            if client % 10 == round % 10 && !leavers.contains(client) && second != choice {
                plan.append(PlannedVote(at: base + UInt64((0.5 + 0.05 * spread) * slot * 1e9), client: client,
                                        ballot: round, choice: second))
            }
        }
        return plan
    }
}

extension EventScenario {
    /// Each camp's leaning (0 agree, 1 disagree) on rounds 1, 2, 3, 4 (then again from 1): every
    /// camp leans differently. On round 0 every camp agrees, so the analysis has a consensus.
    static let leanings: [[Int]] = [[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 1, 0]]

    /// The first choice (0 agree, 1 disagree, 2 pass) of `client` on `round`. Without camps the
    /// choices simply rotate; with `camps` (`stelling load event --camps N`) client c is in camp
    /// c mod N and follows its camp's leaning 18 times in 20, passes 1 in 20 and takes the other
    /// side 1 in 20, so that the opinion analysis (issue 15) has planted camps to find.
    static func choice(client: Int, round: Int, camps: Int) -> Int {
        guard camps > 0 else { return (client + round) % 3 }
        let leaning = leaning(client: client, round: round, camps: camps)
        switch (client &* 40_503 &+ round &* 7_919) % 20 {
        case 0: return 2
        case 1: return 1 - leaning
        default: return leaning
        }
    }

    /// The leaning (0 agree, 1 disagree) of `client`'s camp on `round`.
    static func leaning(client: Int, round: Int, camps: Int) -> Int {
        round == 0 ? 0 : leanings[(client % camps) % leanings.count][(round - 1) % 4]
    }
}

extension String {
    /// The string, or `replacement` when it is empty.
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
