/// Chat messages sent on a schedule and counted at every receiver: the part of `chat` and
/// `event` that measures delivery. Each message's text carries its send time (`ld <ns> <seq>`),
/// so every receiver measures its own delivery latency.
///
/// Thread rule: guarded by the swarm's lock (`handle` runs with it held; the driver's calls take it).
final class ChatTraffic {
    let senders: [Int]
    let planned: Int
    private let interval: Double
    private(set) var start: UInt64 = 0
    private(set) var sent = 0
    private(set) var unsendable = 0
    private var sendTimes: [UInt64]
    private(set) var accepted = 0
    private(set) var rejected: [String: Int] = [:]
    private(set) var received: [Int32]
    private(set) var deliveries = 0
    private(set) var lastDelivery: UInt64 = 0
    /// The id of the first message the server acknowledged (for `hide`).
    private(set) var firstMessageID: Int?
    /// Send-to-delivery time at every receiver.
    private(set) var latency = LatencyHistogram()
    /// Send-to-ack time at the sender (the ack leaves once the message is durable).
    private(set) var ackLatency = LatencyHistogram()
    /// A flood (issue 11 section 4): refusals past the server's chat budget are expected.
    var flood = false

    /// Plans `rate × seconds` messages from `senders` in turn; `clients` is the swarm's size.
    init(senders: [Int], rate: Double, seconds: Double, clients: Int) {
        self.senders = senders
        planned = max(1, Int((rate * seconds).rounded()))
        interval = 1e9 / rate
        sendTimes = [UInt64](repeating: 0, count: planned)
        received = [Int32](repeating: 0, count: clients)
    }

    /// Whether every planned message has been sent (or could not be).
    var doneSending: Bool { sent == planned }

    /// Whether every sent message is answered; under the lock.
    var allAnswered: Bool { accepted + rejected.values.reduce(0, +) + unsendable == sent }

    /// The messages rejected, all codes together.
    var rejectedCount: Int { rejected.values.reduce(0, +) }

    /// Handles a chat event or the answer to a chat; false for anything else. Under the lock.
    func handle(_ event: ServerEvent, client: Int, at now: UInt64) -> Bool {
        switch event.kind {
        case .chat:
            guard let start = event.offset(after: #""text":"ld "#),
                  let stamp = ServerEvent.digits(event.bytes, from: start).value else { return false }
            if client < received.count { received[client] += 1 }
            deliveries += 1
            lastDelivery = now
            let sentAt = UInt64(stamp)
            latency.record(nanoseconds: now > sentAt ? now - sentAt : 0)
            return true
        case .ack:
            guard let ref = event.ref, ref.kind == UInt8(ascii: "c"), ref.number < sent else { return false }
            accepted += 1
            ackLatency.record(nanoseconds: now > sendTimes[ref.number] ? now - sendTimes[ref.number] : 0)
            if firstMessageID == nil { firstMessageID = event.integer(after: #""id":"#) }
            return true
        case .error:
            guard let ref = event.ref, ref.kind == UInt8(ascii: "c") else { return false }
            rejected[event.string(#""code":""#) ?? "error", default: 0] += 1
            return true
        default:
            return false
        }
    }

    /// Starts the schedule now.
    func begin(swarm: Swarm) {
        swarm.withLock { start = monotonicNanoseconds() }
    }

    /// Sends every message due by now; returns when the next one is due (nanoseconds).
    @discardableResult
    func sendDue(swarm: Swarm) -> UInt64 {
        let now = monotonicNanoseconds()
        let due: Range<Int> = swarm.withLock {
            let upTo = min(planned, Int(Double(now - start) / interval) + 1)
            defer { if upTo > sent { sent = upTo } }
            for sequence in sent..<max(sent, upTo) { sendTimes[sequence] = now }
            return sent..<max(sent, upTo)
        }
        var failed = 0
        for sequence in due {
            let sender = senders[sequence % senders.count]
            let text = #"{"type":"chat","text":"ld \#(now) \#(sequence)","ref":"c\#(sequence)"}"#
            if !swarm.send(sender, text) { failed += 1 }
        }
        if failed > 0 { swarm.withLock { unsendable += failed } }
        return start + UInt64(Double(due.upperBound) * interval)
    }

    /// Adds the delivery figures and checks for `receivers`, who should each have received every accepted message.
    func report(into report: inout LoadReport, receivers: [Int], window seconds: Double) {
        let expected = accepted * receivers.count
        var lost = 0
        var extra = 0
        var short = 0
        var counted = 0
        for receiver in receivers {
            let got = Int(received[receiver])
            counted += got
            if got < accepted { lost += accepted - got; short += 1 }
            if got > accepted { extra += got - accepted }
        }
        report.add("chat_sent", "chat messages sent", Double(sent))
        report.add("chat_accepted", "chat messages acknowledged", Double(accepted))
        report.add("chat_rejected", "chat messages rejected", Double(rejectedCount))
        report.add("deliveries_expected", "deliveries expected", Double(expected))
        report.add("deliveries", "deliveries received", Double(counted))
        if counted != deliveries {
            report.add("deliveries_all", "deliveries to everyone (late joiners, leavers, moderator too)", Double(deliveries))
        }
        report.add("lost", "deliveries lost", Double(lost))
        report.add("deliveries_per_s", "deliveries a second", seconds > 0 ? Double(deliveries) / seconds : 0, "/s")
        report.add("latency_p50_ms", "delivery latency p50", Double(latency.percentile(0.5)) / 1000, "ms")
        report.add("latency_p90_ms", "delivery latency p90", Double(latency.percentile(0.9)) / 1000, "ms")
        report.add("latency_p99_ms", "delivery latency p99", Double(latency.percentile(0.99)) / 1000, "ms")
        report.add("latency_max_ms", "delivery latency max", Double(latency.maximum) / 1000, "ms")
        report.add("chat_ack_p99_ms", "chat send-to-ack p99", Double(ackLatency.percentile(0.99)) / 1000, "ms")
        let rejectedDetail = rejected.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
        if flood {
            // Issue 11 section 4: the flood is meant to be refused past the budget; what matters is that
            // every message is answered, refusals are only rate_limited, and listeners stay fast.
            let others = rejected.filter { $0.key != "rate_limited" }.values.reduce(0, +)
            report.check("every flood message answered, refusals only rate_limited", allAnswered && others == 0 && sent == planned,
                         "\(accepted) acknowledged, \(rejectedCount) refused of \(sent) sent" + (rejectedDetail.isEmpty ? "" : "; " + rejectedDetail))
            report.check("listeners' delivery p99 under 250 ms", latency.percentile(0.99) < 250_000,
                         "\(Double(latency.percentile(0.99)) / 1000) ms")
        } else {
        report.check("every chat message acknowledged", accepted == sent && sent == planned,
                     "\(accepted) of \(sent) sent, \(planned) planned" + (rejectedDetail.isEmpty ? "" : "; rejected: " + rejectedDetail)
                     + (unsendable > 0 ? "; \(unsendable) not sendable" : ""))
        }
        report.check("nothing lost", lost == 0 && extra == 0,
                     lost == 0 && extra == 0 ? "\(counted) of \(expected)"
                         : "\(lost) lost at \(short) receivers, \(extra) unexpected")
    }

    /// A short account for progress lines; under the lock.
    func status() -> String {
        "chat \(sent)/\(planned) sent, \(accepted) acked, \(deliveries) delivered, p99 \(Double(latency.percentile(0.99)) / 1000) ms"
    }
}

/// Participants spread evenly over `0..<clients`, `count` of them.
func spread(_ count: Int, over clients: Range<Int>) -> [Int] {
    let total = clients.count
    guard count > 0, total > 0 else { return [] }
    return (0..<min(count, total)).map { clients.lowerBound + $0 * total / min(count, total) }
}
