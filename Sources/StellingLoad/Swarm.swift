import Foundation
import StellingCore
import StellingLWS
import Synchronization

/// What a scenario does with the events of its clients. Every method runs on the pool's
/// service thread with the swarm's lock held: read and change scenario state freely, but
/// send through `out`, which the swarm carries out once the lock is released.
protocol SwarmListener: AnyObject {
    /// Client `client` was welcomed (its join succeeded).
    func welcomed(_ client: Int, _ event: ServerEvent, at now: UInt64, out: inout Outbox)
    /// An event other than the join's answer arrived for joined client `client`.
    func received(_ event: ServerEvent, client: Int, at now: UInt64, out: inout Outbox)
}

extension SwarmListener {
    func welcomed(_ client: Int, _ event: ServerEvent, at now: UInt64, out: inout Outbox) {}
}

/// Messages to send and connections to open once the swarm's lock is released.
struct Outbox {
    fileprivate var sends: [(Int, String)] = []
    fileprivate var connects: [Int] = []

    /// Sends `text` on client `client`'s connection.
    mutating func send(_ client: Int, _ text: String) { sends.append((client, text)) }

    var isEmpty: Bool { sends.isEmpty && connects.isEmpty }
}

/// The clients of one load run on one ``WebSocketClientPool``: opens and joins them with a bounded
/// number in flight, splits their messages into events, counts, and hands events to the scenario.
///
/// Thread rule: the swarm's `Mutex` holds its `State`, and holding it also guards the scenario's
/// own objects (its listener runs under it). The pool's service thread takes it once per received
/// message; the scenario's driver thread takes it to read figures and to act (`withLock` for the
/// scenario's objects, `withState` for the swarm's state too).
final class Swarm: @unchecked Sendable {
    /// What a client joins as.
    enum Role: Sendable { case participant, moderator, screen }

    /// Where a client is in its life.
    enum Phase: Sendable, Equatable { case idle, queued, joining, joined, leaving, left, dropped, failed }

    struct Client {
        var role: Role
        var name: String
        var group: String?
        var connection: ClientConnection?
        var phase: Phase = .idle
        var startedAt: UInt64 = 0
        var welcomedAt: UInt64 = 0
        /// Joins refused with `rate_limited` so far.
        var attempts = 0
    }

    /// Counts of everything received, for figures.
    struct Counters: Sendable {
        var messages = 0
        var events = 0
        var bytes = 0
        var welcomed = 0
        var joinFailures = 0
        var dropped = 0
        var left = 0
        var errors: [String: Int] = [:]
        var failureReasons: [String: Int] = [:]
        var firstJoinStart: UInt64 = 0
        var lastWelcome: UInt64 = 0
        /// Joins sent again after `rate_limited`.
        var joinRetries = 0
    }

    let pool: WebSocketClientPool
    /// The endpoints, round-robin by client index.
    let urls: [String]
    let sourceAddresses: [String]
    let moderatorKey: String?
    /// The most connections between connect and welcome at any time.
    let window: Int
    /// How a join refused with `rate_limited` is retried; nil fails it.
    let joinRetry: JoinRetry?

    /// What the swarm's lock holds.
    struct State {
        fileprivate(set) var clients: [Client] = []
        fileprivate(set) var counters = Counters()
        /// Connect-to-welcome time of every participant.
        fileprivate(set) var joinLatency = LatencyHistogram()
        fileprivate var queue: [Int] = []
        fileprivate var queueHead = 0
        fileprivate var inFlight = 0
        /// Joins to send again (after `rate_limited`) or to queue (`joinSpread`), by due time.
        fileprivate var timers: [(due: UInt64, index: Int, retry: Bool)] = []
        fileprivate var random = SystemRandomNumberGenerator()

        /// Joins queued or between connect and welcome.
        var pendingJoins: Int { inFlight + (queue.count - queueHead) + timers.count { !$0.retry } }

        /// A short account of joins, for progress lines and errors.
        func joinStatus() -> String {
            var line = "\(counters.welcomed) welcomed, \(counters.joinFailures) failed, \(inFlight) joining"
            if counters.dropped > 0 { line += ", \(counters.dropped) dropped" }
            return line
        }

        /// The most common failure reasons, for checks.
        func failureSummary() -> String {
            counters.failureReasons.sorted { $0.value > $1.value }.prefix(3).map { "\($0.value)× \($0.key)" }.joined(separator: "; ")
        }
    }

    private let state = Mutex(State())
    /// The scenario, whose objects the driver thread uses too: beside the state, not in it (a
    /// `Mutex` hands its state over), and called with the lock held.
    private var listener: (any SwarmListener)?

    init(options: LoadOptions) throws(LoadError) {
        for url in options.urls where WebSocketURL(url) == nil {
            throw LoadError("--url must look like ws://HOST:PORT/ws, not \(url)")
        }
        urls = options.urls
        sourceAddresses = options.sourceAddresses
        moderatorKey = options.moderatorKey
        window = max(1, options.concurrency)
        joinRetry = options.joinRetry
        do {
            pool = try WebSocketClientPool(maxMessageBytes: 16 << 20, napMicroseconds: options.napMicroseconds)
        } catch {
            throw LoadError("could not start the WebSocket client: \(error.message)")
        }
    }

    /// Closes every connection at once and stops the pool's thread.
    func shutdown() {
        pool.shutdown(timeout: 10)
        withState { $0.clients = [] }  // the connections' callbacks hold the swarm
    }

    /// Runs `body` with the lock held: for the scenario's own objects.
    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        try state.withLock { _ in try body() }
    }

    /// Runs `body` on the swarm's state, with the lock held.
    func withState<Result>(_ body: (inout sending State) throws -> sending Result) rethrows -> Result {
        try state.withLock { try body(&$0) }
    }

    /// Sets the scenario's listener; before the first join.
    func listen(_ listener: any SwarmListener) {
        withLock { self.listener = listener }
    }

    // MARK: Driver side

    /// Adds `count` clients of `role`, named `prefix N`; returns their indices. Groups go round-robin.
    func add(_ count: Int, role: Role, prefix: String = "Load", groups: [String] = []) -> Range<Int> {
        withState { state in
            let start = state.clients.count
            for number in 0..<count {
                let group = groups.isEmpty ? nil : groups[(start + number) % groups.count]
                state.clients.append(Client(role: role, name: "\(prefix) \(start + number + 1)", group: group))
            }
            return start..<state.clients.count
        }
    }

    /// Queues clients to connect and join; at most `window` are between connect and welcome at once.
    func join(_ indices: some Sequence<Int>) {
        var out = Outbox()
        withState { state in
            for index in indices where state.clients[index].phase == .idle {
                state.clients[index].phase = .queued
                state.queue.append(index)
            }
            launch(&state, at: monotonicNanoseconds(), &out)
        }
        perform(out)
    }

    /// Queues clients to connect and join evenly over `seconds` (the first at once).
    func join(_ indices: some Collection<Int>, spreadOver seconds: Double) {
        guard seconds > 0, indices.count > 1 else { return join(indices) }
        let start = monotonicNanoseconds()
        let step = seconds * 1e9 / Double(indices.count)
        withState { state in
            for (offset, index) in indices.enumerated() where state.clients[index].phase == .idle {
                state.clients[index].phase = .queued
                state.timers.append((start + UInt64(Double(offset) * step), index, false))
            }
        }
        fireDueTimers()
    }

    /// Carries out the retries and spread joins that are due (called from `wait`, every 5 ms).
    func fireDueTimers() {
        var out = Outbox()
        withState { state in
            guard !state.timers.isEmpty else { return }
            let now = monotonicNanoseconds()
            var remaining: [(due: UInt64, index: Int, retry: Bool)] = []
            for timer in state.timers {
                guard timer.due <= now else { remaining.append(timer); continue }
                if timer.retry {
                    if state.clients[timer.index].phase == .joining { out.send(timer.index, joinRequest(state.clients[timer.index])) }
                } else {
                    state.queue.append(timer.index)
                }
            }
            state.timers = remaining
            launch(&state, at: now, &out)
        }
        perform(out)
    }

    /// Sends `text` on client `index`'s connection; false when it is not open.
    @discardableResult
    func send(_ index: Int, _ text: String) -> Bool {
        let connection = withState { $0.clients[index].connection }
        return connection?.send(text) ?? false
    }

    /// Closes client `index` as a browser tab would (1000); it counts as left, not dropped.
    func leave(_ index: Int) {
        let connection = withState { state -> ClientConnection? in
            guard state.clients[index].phase == .joined else { return nil }
            state.clients[index].phase = .leaving
            return state.clients[index].connection
        }
        connection?.close(code: .normal)
    }

    /// Waits until `done` holds (checked under the lock every 5 ms) or `deadline` passes; prints
    /// `status` through `progress` about once a second. Throws a clear error at the deadline.
    func wait(until deadline: UInt64, for what: String, progress: Progress?,
              status: (State) -> String, _ done: (State) -> Bool) throws(LoadError) {
        var nextProgress = monotonicNanoseconds() + 1_000_000_000
        while true {  // bounded by `deadline`
            fireDueTimers()
            let (finished, line) = withState { (done($0), status($0)) }
            if finished { return }
            let now = monotonicNanoseconds()
            if now >= deadline {
                progress?.end()
                throw LoadError("timed out waiting for \(what): \(line)")
            }
            if now >= nextProgress {
                progress?.show(line)
                nextProgress = now + 1_000_000_000
            }
            sleep(untilNanoseconds: min(deadline, now + 5_000_000))
        }
    }

    /// The most common failure reasons, for checks.
    func failureSummary() -> String {
        withState { $0.failureSummary() }
    }

    // MARK: Service thread side

    private func launch(_ state: inout State, at now: UInt64, _ out: inout Outbox) {
        while state.inFlight < window, state.queueHead < state.queue.count {
            let index = state.queue[state.queueHead]
            state.queueHead += 1
            state.inFlight += 1
            state.clients[index].phase = .joining
            state.clients[index].startedAt = now
            if state.counters.firstJoinStart == 0 { state.counters.firstJoinStart = now }
            out.connects.append(index)
        }
        if state.queueHead == state.queue.count {
            state.queue = []
            state.queueHead = 0
        }
    }

    private func perform(_ out: Outbox) {
        for index in out.connects { open(index) }
        guard !out.sends.isEmpty else { return }
        let connections = withState { state in out.sends.map { state.clients.indices.contains($0.0) ? state.clients[$0.0].connection : nil } }
        for (connection, send) in zip(connections, out.sends) { connection?.send(send.1) }
    }

    private func open(_ index: Int) {
        let client = withState { $0.clients[index] }
        let source = sourceAddresses.isEmpty ? nil : sourceAddresses[index % sourceAddresses.count]
        let callbacks = ClientCallbacks(
            onMessage: { [self] bytes in received(bytes, client: index) },
            onStatus: { [self] event in status(event, client: index) })
        let connection = pool.connect(url: urls[index % urls.count], sourceAddress: source, callbacks: callbacks)
        withState { state in if state.clients.indices.contains(index) { state.clients[index].connection = connection } }
        connection.send(joinRequest(client))
    }

    private func joinRequest(_ client: Client) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("type", "join")
        switch client.role {
        case .participant:
            json.field("name", client.name)
            if let group = client.group { json.field("group", group) }
        case .moderator:
            json.field("role", "moderator")
            json.field("key", moderatorKey ?? "")
            json.field("name", client.name)
        case .screen:
            json.field("role", "screen")
        }
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    private func received(_ message: UnsafeRawBufferPointer, client index: Int) {
        let now = monotonicNanoseconds()
        var out = Outbox()
        withState { state in
            state.counters.messages += 1
            state.counters.bytes += message.count
            if state.clients.indices.contains(index) {
                forEachLine(message) { line in
                    state.counters.events += 1
                    let event = ServerEvent(line)
                    if state.clients[index].phase == .joining {
                        switch event.kind {
                        case .welcome:
                            state.clients[index].phase = .joined
                            state.clients[index].welcomedAt = now
                            state.counters.welcomed += 1
                            state.counters.lastWelcome = now
                            state.joinLatency.record(nanoseconds: now - state.clients[index].startedAt)
                            state.inFlight -= 1
                            launch(&state, at: now, &out)
                            listener?.welcomed(index, event, at: now, out: &out)
                            return
                        case .error:
                            let code = event.string(#""code":""#) ?? "error"
                            state.counters.errors[code, default: 0] += 1
                            if code == "rate_limited", let joinRetry {
                                // The connection stays open and not joined: send the join again later.
                                let delay = joinRetry.delayNanoseconds(attempt: state.clients[index].attempts,
                                                                       random: Double.random(in: 0..<1, using: &state.random))
                                state.clients[index].attempts += 1
                                state.counters.joinRetries += 1
                                if delay == 0 {
                                    out.send(index, joinRequest(state.clients[index]))
                                } else {
                                    state.timers.append((now + delay, index, true))
                                }
                                return
                            }
                            joinFailed(&state, index, reason: "join refused: \(code)", at: now, &out)
                            return
                        default:
                            return  // nothing but the join's answer comes first
                        }
                    }
                    if event.kind == .error {
                        state.counters.errors[event.string(#""code":""#) ?? "error", default: 0] += 1
                    }
                    listener?.received(event, client: index, at: now, out: &out)
                }
            }
        }
        if !out.isEmpty { perform(out) }
    }

    private func status(_ event: ClientEvent, client index: Int) {
        let reason: String
        switch event {
        case .open, .text, .binary: return
        case let .closed(code, text): reason = "closed" + (code.map { " \($0)" } ?? "") + (text.isEmpty ? "" : " \(text)")
        case let .failed(text): reason = text
        }
        var out = Outbox()
        withState { state in
            guard state.clients.indices.contains(index) else { return }
            switch state.clients[index].phase {
            case .joining:
                joinFailed(&state, index, reason: reason, at: monotonicNanoseconds(), &out)
            case .joined:
                state.clients[index].phase = .dropped
                state.counters.dropped += 1
                state.counters.failureReasons["dropped: " + reason, default: 0] += 1
            case .leaving:
                state.clients[index].phase = .left
                state.counters.left += 1
            case .idle, .queued, .left, .dropped, .failed:
                break
            }
        }
        if !out.isEmpty { perform(out) }
    }

    private func joinFailed(_ state: inout State, _ index: Int, reason: String, at now: UInt64, _ out: inout Outbox) {
        state.clients[index].phase = .failed
        state.counters.joinFailures += 1
        state.counters.failureReasons[reason, default: 0] += 1
        state.inFlight -= 1
        launch(&state, at: now, &out)
    }
}

/// The error that ends a load run: a clear sentence for people.
public struct LoadError: Error, Sendable, CustomStringConvertible {
    /// For people.
    public var description: String

    /// Makes an error.
    public init(_ description: String) { self.description = description }
}
