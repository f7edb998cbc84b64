/// `chat`: N joined participants, S of them chatting at an aggregate R messages a second for D
/// seconds. Every receiver measures delivery latency; nothing may be lost.
struct ChatScenario {
    let load: LoadRun

    /// Hands chat events and chat answers to the traffic.
    private final class Listener: SwarmListener {
        let traffic: ChatTraffic
        init(_ traffic: ChatTraffic) { self.traffic = traffic }
        func received(_ event: ServerEvent, client: Int, at now: UInt64, out: inout Outbox) {
            _ = traffic.handle(event, client: client, at: now)
        }
    }

    func run() throws(LoadError) -> LoadReport {
        let swarm = load.swarm
        let options = load.options
        let participants = swarm.add(options.clients, role: .participant)
        let seconds = options.chatDuration(for: .chat)
        let traffic = ChatTraffic(senders: spread(options.senderCount, over: participants), rate: options.rate,
                                  seconds: seconds, clients: participants.count)
        traffic.flood = options.flood
        swarm.listen(Listener(traffic))
        var report = LoadReport(scenario: "chat", clients: options.clients)
        try load.joinAll(participants)
        let welcomed = swarm.withState { $0.counters.welcomed }
        guard welcomed == participants.count else {
            throw LoadError("only \(welcomed) of \(participants.count) participants joined: \(swarm.failureSummary())")
        }

        load.startMeasuring()
        traffic.begin(swarm: swarm)
        try drive(traffic)
        // Drain: everything answered and delivered, or at most 10 s more.
        let drainEnd = min(load.deadline, monotonicNanoseconds() + 10_000_000_000)
        try? swarm.wait(until: drainEnd, for: "the last deliveries", progress: load.progress, status: { _ in traffic.status() }) { _ in
            traffic.allAnswered && traffic.deliveries >= traffic.accepted * participants.count
        }
        load.stopMeasuring()

        let (firstSend, lastDelivery) = swarm.withLock { (traffic.start, traffic.lastDelivery) }
        let window = lastDelivery > firstSend ? Double(lastDelivery - firstSend) / 1e9 : seconds
        report.add("senders", "senders", Double(traffic.senders.count))
        report.add("rate", "offered rate", options.rate, "/s")
        if let rss = load.serverResidentBytes() { report.add("server_rss_after_b", "server memory after the run", Double(rss), "B") }
        swarm.withState { state in
            traffic.report(into: &report, receivers: Array(participants), window: window)
            report.check("nobody dropped", state.counters.dropped == 0, "\(state.counters.dropped) dropped")
        }
        return report
    }

    /// Sends on schedule until every planned message is out; fails at the deadline.
    private func drive(_ traffic: ChatTraffic) throws(LoadError) {
        let swarm = load.swarm
        var nextProgress = monotonicNanoseconds() + 1_000_000_000
        while !swarm.withLock({ traffic.doneSending }) {  // bounded by the plan and the deadline
            let next = traffic.sendDue(swarm: swarm)
            let now = monotonicNanoseconds()
            guard now < load.deadline else { throw LoadError("timed out while sending chat: " + swarm.withLock { traffic.status() }) }
            if now >= nextProgress {
                load.progress?.show(swarm.withLock { traffic.status() })
                nextProgress = now + 1_000_000_000
            }
            sleep(untilNanoseconds: min(next, now + 5_000_000))
        }
    }
}
