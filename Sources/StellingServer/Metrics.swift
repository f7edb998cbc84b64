import Prometheus
import StellingCore

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
    /// Time from a transaction's start to its commit in the store.
    public let storeWrite: DurationHistogram
    private let joinedByRole: [Role: Gauge]
    private let errorsByCode: [ErrorCode: Counter]
    private let transportTotals = TransportTotals()

    /// Makes every metric, errors for each code at zero.
    public init() {
        connections = registry.makeGauge(name: "stelling_connections", help: "WebSocket connections open now.")
        present = registry.makeGauge(name: "stelling_participants_present", help: "Distinct participants with a joined connection.")
        messagesIn = registry.makeCounter(name: "stelling_messages_in_total", help: "Client messages received.")
        eventsOut = registry.makeCounter(name: "stelling_events_out_total", help: "Events queued for clients, counted per recipient.")
        messagesOut = registry.makeCounter(name: "stelling_messages_out_total", help: "WebSocket messages written; each carries one or more events.")
        bytesOut = registry.makeCounter(name: "stelling_bytes_out_total", help: "WebSocket payload bytes written.")
        votes = registry.makeCounter(name: "stelling_votes_total", help: "Votes accepted.")
        chatMessages = registry.makeCounter(name: "stelling_chat_messages_total", help: "Chat messages accepted.")
        storeWrite = registry.makeDurationHistogram(
            name: "stelling_store_write_seconds",
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)],
            help: "Time to write and commit one group of records.")
        var joined: [Role: Gauge] = [:]
        for role in Role.allCases {
            joined[role] = registry.makeGauge(name: "stelling_joined", labels: [("role", role.rawValue)], help: "Joined connections by role.")
        }
        joinedByRole = joined
        var errors: [ErrorCode: Counter] = [:]
        for code in ErrorCode.allCases {
            errors[code] = registry.makeCounter(name: "stelling_errors_total", labels: [("code", code.rawValue)], help: "Error events sent, by code.")
        }
        errorsByCode = errors
    }

    /// The gauge of joined connections with a role.
    func joined(_ role: Role) -> Gauge { joinedByRole[role]! }

    /// The counter of errors with a code.
    func error(_ code: ErrorCode) -> Counter { errorsByCode[code]! }

    /// Brings the transport's totals in (call on the service thread).
    func update(from counters: TransportCounters) {
        let (messages, bytes) = transportTotals.advance(messages: counters.messagesOut, bytes: counters.bytesOut)
        if messages > 0 { messagesOut.increment(by: Int64(messages)) }
        if bytes > 0 { bytesOut.increment(by: Int64(bytes)) }
    }

    /// The metrics in the Prometheus text format.
    func render() -> [UInt8] { registry.emitToBuffer() }
}

/// The transport totals already counted, so that only the growth is added.
private final class TransportTotals: @unchecked Sendable {
    private var messages: UInt64 = 0
    private var bytes: UInt64 = 0
    private let lock = Lock()

    func advance(messages newMessages: UInt64, bytes newBytes: UInt64) -> (UInt64, UInt64) {
        lock.withLock {
            defer { messages = newMessages; bytes = newBytes }
            return (newMessages &- messages, newBytes &- bytes)
        }
    }
}
