import Dispatch
import Foundation
import Logging
import StellingCore

/// Keeps records in memory and reports them durable on the next loop turn. For tests of the
/// shell without a database; `stelling serve` uses the SQLite store.
public final class MemorySink: RecordSink, @unchecked Sendable {
    private let lock = Lock()
    private var records: [Record] = []
    private var report: (@Sendable (UInt64) -> Void)?

    /// Makes an empty sink.
    public init() {}

    /// Sets where "durable up to N" goes.
    public func onDurable(_ report: @escaping @Sendable (UInt64) -> Void) { lock.withLock { self.report = report } }

    public func append(_ record: Record) -> UInt64 {
        let (sequence, report) = lock.withLock {
            records.append(record)
            return (UInt64(records.count), self.report)
        }
        report?(sequence)
        return sequence
    }

    /// Every record appended so far.
    public var appended: [Record] { lock.withLock { records } }
}

/// One running Stelling server: the transport, the event service on its loop, and the sink.
public final class Server: Sendable {
    /// The transport (HTTP and WebSocket).
    public let transport: WebSocketServer
    /// The event service (the room's shell).
    public let service: EventService
    /// The metrics served at /metrics.
    public let metrics: Metrics
    private let logger: Logger

    /// Assembles a server for a room. `durable` is how the sink's reports reach the service:
    /// pass the sink's registration function, e.g. `{ sink.onDurable($0) }`.
    public init(
        room: Room, options: TransportOptions, sink: any RecordSink, metrics: Metrics = Metrics(), logger: Logger,
        registerDurable: (@escaping @Sendable (UInt64) -> Void) -> Void,
        hooks: ServiceHooks = ServiceHooks()
    ) {
        let loop = ServiceLoop()
        let service = EventService(room: room, loop: loop, sink: sink, metrics: metrics, logger: logger, hooks: hooks)
        self.service = service
        self.metrics = metrics
        self.logger = logger
        self.transport = WebSocketServer(options: options, handler: service, loop: loop, logger: logger)
        service.attach(transport)
        registerDurable { sequence in
            loop.execute { service.assumeIsolated { $0.durable(upTo: sequence) } }
        }
    }

    /// Starts listening; returns once the server accepts connections.
    public func start() throws(TransportError) { try transport.start() }

    /// The port listened on.
    public var port: Int { transport.boundPort }

    /// Stops gracefully: `/healthz` stops answering ok, `drain` runs (flush the store), what
    /// was waiting for it goes out, then every connection is closed with 1001.
    public func stop(drain: @escaping @Sendable () -> Void = {}) {
        let loop = transport.loop
        let service = self.service
        let transport = self.transport
        loop.execute { service.assumeIsolated { $0.stopAccepting() } }
        DispatchQueue.global().async {
            drain()
            // Let the acks released by the drain be queued before the close frames.
            let released = DispatchSemaphore(value: 0)
            loop.execute { released.signal() }
            _ = released.wait(timeout: .now() + .seconds(2))
            transport.stop()
        }
    }

    /// Blocks until the transport has stopped.
    public func waitUntilStopped() { transport.waitUntilStopped() }

    /// SIGINT and SIGTERM: the first stops gracefully (see `stop`), the second exits at once.
    public func installSignalHandlers(drain: @escaping @Sendable () -> Void = {}) {
        installStopSignals(logger: logger) { [self] in stop(drain: drain) }
    }
}

/// Kept alive for the life of the process.
nonisolated(unsafe) private var signalSources: [DispatchSourceSignal] = []

/// Made in a nonisolated function: closures written in top-level code are MainActor-isolated
/// and trap when a signal runs them (LIBWEBSOCKETS.md).
private func installStopSignals(logger: Logger, stop: @escaping @Sendable () -> Void) {
    signal(SIGPIPE, SIG_IGN)
    let once = Lock()
    nonisolated(unsafe) var stopping = false
    // Dispatch registers a source asynchronously: wait for it, or a signal sent right after
    // start would meet SIG_IGN and be lost.
    let registered = DispatchSemaphore(value: 0)
    for number in [SIGINT, SIGTERM] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setRegistrationHandler { registered.signal() }
        source.setEventHandler {
            let first = once.withLock { () -> Bool in
                defer { stopping = true }
                return !stopping
            }
            guard first else { _exit(128 + number) }
            logger.notice("stopping", metadata: ["signal": "\(number)"])
            stop()
        }
        source.resume()
        signalSources.append(source)
    }
    for _ in 0..<2 { _ = registered.wait(timeout: .now() + .seconds(2)) }
}
