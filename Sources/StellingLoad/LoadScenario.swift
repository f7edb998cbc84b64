import Foundation
import StellingLWS
import Synchronization

/// The load scenarios of `stelling load`.
public enum LoadScenario: String, CaseIterable, Sendable {
    /// N participants connect and join as fast as the server allows, then stay a while.
    case join
    /// N participants, S of them chatting at R messages a second for D seconds; every receiver measures delivery.
    case chat
    /// N participants and a moderator: `next`, everyone votes at once, `close`; the tally must equal the acks.
    case votes
    /// A seminar compressed in time: joins, chat, five statements with votes, reveals, late joiners, leavers.
    case event
    /// Revision 2: N participants, a share ask, everyone upvotes in bursts; counts must equal the acks.
    case questions

    /// Runs the scenario against `options.url`; throws a clear error when it cannot finish in time.
    public func run(_ options: LoadOptions) throws(LoadError) -> LoadReport {
        try options.validate(for: self)
        let run = try LoadRun(options: options, scenario: self)
        defer { run.finish() }
        var report = switch self {
        case .join: try JoinScenario(load: run).run()
        case .chat: try ChatScenario(load: run).run()
        case .votes: try VoteScenario(load: run).run()
        case .event: try EventScenario(load: run).run()
        case .questions: try QuestionScenario(load: run).run()
        }
        run.addCosts(to: &report)
        return report
    }
}

/// How the load tool retries a join refused with `rate_limited`.
public enum JoinRetry: String, Sendable, CaseIterable {
    /// As the web page does (web/js/connection.js): after a full-jitter backoff, a random
    /// delay up to 500 ms × 2^attempt (capped at 20 s), at least 250 ms.
    case page
    /// At once, as fast as the server answers (a flood).
    case immediate

    /// The delay before retry number `attempt` (0 first), in nanoseconds; `random` in 0..<1.
    public func delayNanoseconds(attempt: Int, random: Double) -> UInt64 {
        switch self {
        case .immediate:
            return 0
        case .page:
            let ceiling = min(20_000.0, 500.0 * pow(2.0, Double(min(attempt, 16))))
            return UInt64(max(250.0, (random * ceiling).rounded())) * 1_000_000
        }
    }
}

/// What a load run does and against which server. Every value has a default but the URL.
public struct LoadOptions: Sendable {
    /// The server's WebSocket endpoint, `ws://HOST:PORT/ws`.
    public var url: String
    /// Further endpoints: the other nodes of a cluster. Clients go round-robin over `url` and
    /// these (client N to endpoint N modulo their count; a moderator is client 0, so `url`).
    /// The default is none.
    public var otherURLs: [String] = []
    /// The moderator key, needed by `votes` and `event`.
    public var moderatorKey: String?
    /// The number of participants. The default is 200.
    public var clients = 200
    /// The number of participants that chat; nil picks enough to keep each at most 0.5 messages a second.
    public var senders: Int?
    /// Chat messages a second, all senders together. The default is 20.
    public var rate = 20.0
    /// How long `chat` sends, and how long `event` lasts, in seconds. The default is 10 (`event`: 30).
    public var duration: Double?
    /// The most seconds the whole scenario may take before it fails. The default is 120.
    public var timeout = 120.0
    /// The server's process id, to read its memory and CPU time from /proc.
    public var serverPID: Int32?
    /// Further server processes (a cluster's other nodes): memory and CPU time are summed over
    /// `serverPID` and these, and each one's CPU is reported too. The default is none.
    public var otherServerPIDs: [Int32] = []
    /// Local addresses to connect from, round-robin (more source ports than one address has).
    public var sourceAddresses: [String] = []
    /// The most connections between connect and welcome at once. The default is 1,000.
    public var concurrency = 1000
    /// How long `join` holds everyone connected after the last welcome, in seconds. The default is 2.
    public var hold = 2.0
    /// Microseconds the client's service thread sleeps between passes (fewer poll(2) calls over
    /// thousands of sockets, at up to that much latency). The default is 1000.
    public var napMicroseconds: UInt32 = 1000
    /// How a join refused with `rate_limited` is retried; nil fails it (the default).
    public var joinRetry: JoinRetry?
    /// Seconds over which the joins start, evenly (a rush at the hour); 0 starts them at once
    /// (within `concurrency`). The default is 0.
    public var spread = 0.0
    /// `chat` as a flood (issue 11 section 4): refusals (`rate_limited` past the server's chat
    /// budget) are expected and checked to be the only ones, and the listeners' delivery p99 must
    /// stay under 250 ms. The default is false.
    public var flood = false
    /// Planted camps in the `event` scenario's votes (0 to 5); 0 rotates the choices without
    /// structure. The default is 0.
    public var camps = 0
    /// Whether a server that is not on loopback may be loaded. The default is false.
    public var allowRemote = false
    /// Where progress lines go; nil prints none.
    public var progress: Progress? = Progress()

    /// Options for the server at `url`, every other value at its default.
    public init(url: String) {
        self.url = url
    }

    /// Every endpoint: `url`, then `otherURLs`.
    public var urls: [String] { [url] + otherURLs }

    /// Every server process to read: `serverPID`, then `otherServerPIDs`.
    var serverPIDs: [Int32] { (serverPID.map { [$0] } ?? []) + otherServerPIDs }

    func validate(for scenario: LoadScenario) throws(LoadError) {
        for url in urls {
            guard let endpoint = WebSocketURL(url) else { throw LoadError("--url must look like ws://HOST:PORT/ws, not \(url)") }
            guard allowRemote || Self.isLoopback(endpoint.host) else {
                throw LoadError("\(endpoint.host) is not a loopback address; pass --allow-remote to load another machine on purpose")
            }
        }
        guard sourceAddresses.allSatisfy(Self.isLoopback) || allowRemote else {
            throw LoadError("--source-addresses must be loopback addresses (127.0.0.0/8)")
        }
        guard clients >= 1, clients <= 100_000 else { throw LoadError("--clients must be between 1 and 100,000") }
        guard rate > 0, rate <= 1_000_000 else { throw LoadError("--rate must be above 0 and at most 1,000,000") }
        guard timeout > 0 else { throw LoadError("--timeout must be above 0") }
        guard (0...EventScenario.leanings.count).contains(camps) else { throw LoadError("--camps must be between 0 and \(EventScenario.leanings.count)") }
        if let duration, duration <= 0 || duration > 3600 { throw LoadError("--duration must be above 0 and at most 3600") }
        guard spread >= 0, spread <= 3600 else { throw LoadError("--spread must be between 0 and 3600 seconds") }
        if let senders, senders < 1 || senders > clients { throw LoadError("--senders must be between 1 and --clients") }
        if rate * chatDuration(for: scenario) > 10_000_000 { throw LoadError("--rate × --duration must stay at most 10,000,000 messages") }
        if scenario == .votes || scenario == .event, moderatorKey?.isEmpty ?? true {
            throw LoadError("the \(scenario.rawValue) scenario needs --moderator-key (or STELLING_MODERATOR_KEY)")
        }
    }

    /// The seconds of chat of a scenario.
    func chatDuration(for scenario: LoadScenario) -> Double {
        duration ?? (scenario == .event ? 30 : 10)
    }

    /// `A-B` (a range of IPv4 addresses differing in the last part) or `A,B,C`; nil when malformed or more than 256.
    public static func parseAddresses(_ text: String) -> [String]? {
        func parts(_ address: Substring) -> [Int]? {
            let numbers = address.split(separator: ".", omittingEmptySubsequences: false).compactMap { Int($0) }
            return numbers.count == 4 && numbers.allSatisfy { (0...255).contains($0) } ? numbers : nil
        }
        if text.contains("-") {
            let ends = text.split(separator: "-")
            guard ends.count == 2, let low = parts(ends[0]), let high = parts(ends[1]),
                  low[0..<3] == high[0..<3], low[3] <= high[3] else { return nil }
            return (low[3]...high[3]).map { "\(low[0]).\(low[1]).\(low[2]).\($0)" }
        }
        let list = text.split(separator: ",")
        guard !list.isEmpty, list.count <= 256, list.allSatisfy({ parts($0) != nil }) else { return nil }
        return list.map(String.init)
    }

    /// Whether `host` is `localhost`, `::1` or in 127.0.0.0/8.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    /// The chat senders: the option, or enough that each sends at most one message every two seconds.
    var senderCount: Int {
        senders ?? min(clients, max(1, Int((rate * 2).rounded(.up))))
    }
}

/// Progress lines on standard error while a run goes: rewritten in place on a terminal, else one every 5 s.
public final class Progress: Sendable {
    private struct State {
        var lastLine: UInt64 = 0
        var shown = false
    }

    private let terminal = isatty(2) == 1
    private let state = Mutex(State())

    /// Makes a progress printer.
    public init() {}

    /// Shows a progress line.
    public func show(_ line: String) {
        state.withLock { state in
            if terminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
                state.shown = true
            } else {
                let now = monotonicNanoseconds()
                guard now - state.lastLine >= 5_000_000_000 else { return }
                state.lastLine = now
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    /// Ends the line in place, if one was shown.
    public func end() {
        state.withLock { state in
            if terminal && state.shown { FileHandle.standardError.write(Data("\n".utf8)) }
            state.shown = false
        }
    }
}

/// The things every scenario shares: the swarm, the deadline, progress, and the cost readings.
final class LoadRun {
    let options: LoadOptions
    let scenario: LoadScenario
    let swarm: Swarm
    let startedAt = monotonicNanoseconds()
    let deadline: UInt64
    private let toolCPUStart = ProcessStats.ownCPUSeconds()
    private var window: (start: UInt64, cpu: [Double]?, events: Int, tool: Double)?
    private var measured: (seconds: Double, cpu: [Double]?, events: Int, tool: Double)?

    init(options: LoadOptions, scenario: LoadScenario) throws(LoadError) {
        self.options = options
        self.scenario = scenario
        swarm = try Swarm(options: options)
        deadline = startedAt + UInt64(options.timeout * 1e9)
    }

    var progress: Progress? { options.progress }

    /// Stops the pool and ends the progress line.
    func finish() {
        progress?.end()
        swarm.shutdown()
    }

    /// Queues `clients` to join and waits until every one is welcomed or has failed.
    func joinAll(_ clients: Range<Int>, label: String = "participants to join") throws(LoadError) {
        swarm.join(clients, spreadOver: options.spread)
        try waitForJoins(label: label)
    }

    /// Waits until no join is queued or in flight.
    func waitForJoins(label: String = "participants to join") throws(LoadError) {
        try swarm.wait(until: deadline, for: label, progress: progress, status: { $0.joinStatus() }) {
            $0.pendingJoins == 0
        }
    }

    /// Sleeps `seconds`, showing `status` once a second; never past the deadline.
    func pause(_ seconds: Double, status: (Swarm.State) -> String) {
        let end = min(deadline, monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9))
        try? swarm.wait(until: end, for: "a pause", progress: progress, status: status) { _ in false }
    }

    /// The server's resident memory now, in bytes, when `--server-pid` was given (summed over
    /// every server process; nil when one cannot be read).
    func serverResidentBytes() -> Int? {
        let pids = options.serverPIDs
        guard !pids.isEmpty else { return nil }
        var total = 0
        for pid in pids {
            guard let bytes = ProcessStats.residentBytes(pid: pid) else { return nil }
            total += bytes
        }
        return total
    }

    /// The CPU time of each server process now, in seconds; nil when none was given or one cannot be read.
    private func serverCPUSeconds() -> [Double]? {
        let pids = options.serverPIDs
        guard !pids.isEmpty else { return nil }
        let readings = pids.compactMap { ProcessStats.cpuSeconds(pid: $0) }
        return readings.count == pids.count ? readings : nil
    }

    /// Starts the window over which server CPU per event is measured.
    func startMeasuring() {
        window = (monotonicNanoseconds(), serverCPUSeconds(), swarm.withState { $0.counters.events }, ProcessStats.ownCPUSeconds())
    }

    /// Ends the measuring window.
    func stopMeasuring() {
        guard let window else { return }
        let cpu = serverCPUSeconds()
        let events = swarm.withState { $0.counters.events } - window.events
        let used: [Double]? = if let cpu, let start = window.cpu, cpu.count == start.count {
            zip(cpu, start).map { $0 - $1 }
        } else {
            nil
        }
        measured = (Double(monotonicNanoseconds() - window.start) / 1e9, used, events, ProcessStats.ownCPUSeconds() - window.tool)
    }

    /// Adds what the run cost: the tool's CPU time, and the server's CPU per event when measured.
    func addCosts(to report: inout LoadReport) {
        let counters = swarm.withState { $0.counters }
        let wall = Double(monotonicNanoseconds() - startedAt) / 1e9
        report.add("events_received", "events received (all types)", Double(counters.events))
        report.add("messages_received", "WebSocket messages received", Double(counters.messages))
        if let measured {
            report.add("window_s", "measured window", measured.seconds, "s")
            report.add("window_events", "events in the window", Double(measured.events))
            report.add("window_tool_cpu_percent", "load tool CPU in the window (of one core)",
                       100 * measured.tool / max(measured.seconds, 1e-9), "%")
            if let perServer = measured.cpu {
                let cpu = perServer.reduce(0, +)
                if perServer.count > 1 {
                    for (number, seconds) in perServer.enumerated() {
                        report.add("server\(number + 1)_cpu_percent", "server \(number + 1) CPU in the window",
                                   100 * seconds / max(measured.seconds, 1e-9), "%")
                    }
                }
                report.add("server_cpu_s", "server CPU time in the window", cpu, "s")
                report.add("server_cpu_percent", "server CPU in the window", 100 * cpu / max(measured.seconds, 1e-9), "%")
                if measured.events > 0 {
                    report.add("server_ns_per_event", "server CPU per event", cpu * 1e9 / Double(measured.events), "ns")
                    if cpu > 0 {
                        report.add("events_per_server_cpu_s", "events per server CPU-second", Double(measured.events) / cpu, "/s")
                    }
                }
            }
        }
        let tool = ProcessStats.ownCPUSeconds() - toolCPUStart
        report.add("tool_cpu_s", "load tool CPU time", tool, "s")
        report.add("tool_cpu_percent", "load tool CPU (of one core)", 100 * tool / max(wall, 1e-9), "%")
        report.add("wall_s", "wall time", wall, "s")
    }
}

