import Prometheus
import StellingCore
import StellingStore
import StellingLWS
import Synchronization

/// The server's Prometheus metrics (`GET /metrics`): connections, joined clients by role,
/// participants present, messages in, events and messages out, votes, chat, errors by code,
/// and the store's write latency.
public final class Metrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// WebSocket connections open now.
    let connections: Gauge
    /// Distinct participants present.
    let present: Gauge
    /// Client messages received.
    let messagesIn: Counter
    /// Events queued for clients, counted per recipient.
    let eventsOut: Counter
    /// WebSocket messages written (each carries one or more events).
    let messagesOut: Counter
    /// WebSocket payload bytes written.
    let bytesOut: Counter
    /// Votes accepted.
    let votes: Counter
    /// Chat messages accepted.
    let chatMessages: Counter
    /// Revision 2: questions asked.
    let questions: Counter
    /// Revision 2: upvote changes accepted (added or taken back).
    let upvotes: Counter
    /// Time from a transaction's start to its commit in the store.
    public let storeWrite: DurationHistogram
    /// Transactions the store committed (group commit: one for many records).
    let storeTransactions: Counter
    /// Records the store wrote.
    let storeRecords: Counter
    /// Store write attempts that failed and were retried.
    let storeFailures: Counter
    private let joinedByRole: [Role: Gauge]
    private let errorsByCode: [ErrorCode: Counter]
    /// Connections closed because they read too slowly.
    let closedTooSlow: Counter
    private let refusedByReason: [String: Counter]
    /// Issue 16: requests this node put in the event's log that Redis has not taken yet.
    let clusterBacklog: Gauge
    /// Issue 16: 1 while this node reaches Redis (writer and reader), else 0.
    let clusterRedisUp: Gauge
    /// Issue 16: started nodes of the event, this one included.
    let clusterNodes: Gauge
    /// Issue 16: batches of the event's log this node applied, every node's.
    let clusterBatches: Counter
    /// Totals other parts keep (transport, store), as last brought in: only growth is added.
    private let seen = SeenTotals()

    /// Makes every metric, errors for each code at zero.
    public init() {
        connections = registry.makeGauge(descriptor: Metrics.name("connections", "", "WebSocket connections open now."))
        present = registry.makeGauge(descriptor: Metrics.name("participants_present", "", "Distinct participants with a joined connection."))
        clusterBacklog = registry.makeGauge(descriptor: Metrics.name("cluster_log_backlog", "", "Requests this node put in the event's log that Redis has not taken yet."))
        clusterRedisUp = registry.makeGauge(descriptor: Metrics.name("cluster_redis_up", "", "1 while this cluster node reaches Redis, else 0."))
        clusterNodes = registry.makeGauge(descriptor: Metrics.name("cluster_nodes", "", "Started nodes of the event, this one included."))
        clusterBatches = registry.makeCounter(descriptor: Metrics.name("cluster_batches_applied", "total", "Batches of the event's log this node applied."))
        messagesIn = registry.makeCounter(descriptor: Metrics.name("messages_in", "total", "Client messages received."))
        eventsOut = registry.makeCounter(descriptor: Metrics.name("events_out", "total", "Events queued for clients, counted per recipient."))
        messagesOut = registry.makeCounter(descriptor: Metrics.name("messages_out", "total", "WebSocket messages written; each carries one or more events."))
        bytesOut = registry.makeCounter(descriptor: Metrics.name("bytes_out", "total", "WebSocket payload bytes written."))
        votes = registry.makeCounter(descriptor: Metrics.name("votes", "total", "Votes accepted."))
        chatMessages = registry.makeCounter(descriptor: Metrics.name("chat_messages", "total", "Chat messages accepted."))
        questions = registry.makeCounter(descriptor: Metrics.name("questions", "total", "Questions to the panel asked."))
        upvotes = registry.makeCounter(descriptor: Metrics.name("upvotes", "total", "Upvotes added or taken back."))
        storeWrite = registry.makeDurationHistogram(
            descriptor: Metrics.name("store_write", "seconds", "Time to write and commit one group of records."),
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)],
            )
        storeTransactions = registry.makeCounter(descriptor: Metrics.name("store_transactions", "total", "Transactions the store committed; each holds every record pending then."))
        storeRecords = registry.makeCounter(descriptor: Metrics.name("store_records", "total", "Records the store wrote."))
        storeFailures = registry.makeCounter(descriptor: Metrics.name("store_failed_writes", "total", "Store write attempts that failed and were retried."))
        closedTooSlow = registry.makeCounter(descriptor: Metrics.name("closed_too_slow", "total", "Connections closed (1008) because their outbound queue passed the limit."))
        var refused: [String: Counter] = [:]
        for reason in ["total", "address", "origin", "accept"] {
            refused[reason] = registry.makeCounter(descriptor: Metrics.name("refused_connections", "total", "Connections refused: over the total cap, over the per-address cap, a foreign origin, or dropped at accept."), labels: [("reason", reason)])
        }
        refusedByReason = refused
        var joined: [Role: Gauge] = [:]
        for role in Role.allCases {
            joined[role] = registry.makeGauge(descriptor: Metrics.name("joined", "", "Joined connections by role."), labels: [("role", role.rawValue)])
        }
        joinedByRole = joined
        var errors: [ErrorCode: Counter] = [:]
        for code in ErrorCode.allCases {
            errors[code] = registry.makeCounter(descriptor: Metrics.name("errors", "total", "Error events sent, by code."), labels: [("code", code.rawValue)])
        }
        errorsByCode = errors
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "stelling", metricName: metric, unitName: unit, helpText: help)
    }

    /// The gauge of joined connections with a role.
    func joined(_ role: Role) -> Gauge { joinedByRole[role]! }

    /// The counter of errors with a code.
    func error(_ code: ErrorCode) -> Counter { errorsByCode[code]! }

    /// Brings the transport's totals in (call on the service thread).
    func update(from counters: TransportCounters) {
        seen.add(counters.messagesOut, as: "messages", to: messagesOut)
        seen.add(counters.bytesOut, as: "bytes", to: bytesOut)
        seen.add(counters.closedTooSlow, as: "slow", to: closedTooSlow)
        seen.add(counters.refusedOverTotal, as: "total", to: refusedByReason["total"]!)
        seen.add(counters.refusedOverAddress, as: "address", to: refusedByReason["address"]!)
        seen.add(counters.refusedOrigin, as: "origin", to: refusedByReason["origin"]!)
        seen.add(counters.droppedAtAccept, as: "accept", to: refusedByReason["accept"]!)
    }

    /// Brings the store's totals in.
    func update(from statistics: EventStore.Statistics) {
        seen.add(statistics.transactions, as: "transactions", to: storeTransactions)
        seen.add(statistics.records, as: "records", to: storeRecords)
        seen.add(statistics.failedAttempts, as: "failures", to: storeFailures)
    }

    /// The metrics in the Prometheus text format.
    func render() -> [UInt8] { registry.emitToBuffer() }
}

/// The last value of each total brought in, so that a counter grows by the difference.
private final class SeenTotals: Sendable {
    private let values = Mutex<[String: UInt64]>([:])

    func add(_ total: some BinaryInteger, as name: String, to counter: Counter) {
        let now = UInt64(total)
        let growth: UInt64 = values.withLock { values in
            defer { values[name] = now }
            return now &- (values[name] ?? 0)
        }
        if growth > 0 { counter.increment(by: Int64(growth)) }
    }
}
