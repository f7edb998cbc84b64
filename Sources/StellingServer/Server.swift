import Dispatch
import Foundation
import Logging
import StellingCluster
import StellingCore
import StellingStore
import Synchronization
import StellingLWS

/// One running Stelling server: the transport, the event service on its loop, and the store.
public final class Server: Sendable {
    /// The transport (HTTP and WebSocket).
    public let transport: WebSocketServer
    /// The event service (the room's shell).
    public let service: EventService
    /// The metrics served at /metrics.
    public let metrics: Metrics
    /// Issue 16: the event's log when this server is a cluster node.
    public let cluster: ClusterLog?
    private let logger: Logger

    /// Assembles a server for a room rebuilt from `store`: the store's "durable up to N"
    /// reports reach the service on its loop, and its commit times go into the metrics.
    public init(room: Room, options: TransportOptions, store: EventStore, metrics: Metrics = Metrics(), logger: Logger,
                cluster: ClusterLog? = nil, follower: LogFollower? = nil) {
        let loop = ServiceLoop()
        let service = EventService(room: room, loop: loop, store: store, metrics: metrics, logger: logger,
                                   cluster: cluster, follower: follower)
        self.cluster = cluster
        self.service = service
        self.metrics = metrics
        self.logger = logger
        self.transport = WebSocketServer(options: options, handler: service, loop: loop, logger: logger)
        service.attach(transport)
        store.onDurable = { sequence in
            metrics.storeWrite.record(Duration.nanoseconds(Int64(store.statistics.lastCommitSeconds * 1e9)))
            loop.execute { service.assumeIsolated { $0.durable(upTo: sequence) } }
        }
    }

    /// Starts listening; returns once the server accepts connections. A cluster node then follows
    /// the event's log from where its start-up replay ended.
    public func start() throws(TransportError) {
        try transport.start()
        guard let cluster else { return }
        let loop = transport.loop
        let service = self.service
        let position = service.initialPosition
        cluster.start(after: position) { batches in
            // The reader waits until the batches are applied: the log is read no faster than applied.
            let done = DispatchSemaphore(value: 0)
            let queued = loop.execute {
                service.assumeIsolated { $0.applyLogged(batches) }
                done.signal()
            }
            if queued { done.wait() }
        }
    }

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
    let stopping = StopFlag()
    // Dispatch registers a source asynchronously: wait for it, or a signal sent right after
    // start would meet SIG_IGN and be lost.
    let registered = DispatchSemaphore(value: 0)
    for number in [SIGINT, SIGTERM] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setRegistrationHandler { registered.signal() }
        source.setEventHandler {
            let first = stopping.raise()
            guard first else { _exit(128 + number) }
            logger.notice("stopping", metadata: ["signal.number": "\(number)"])
            stop()
        }
        source.resume()
        signalSources.append(source)
    }
    for _ in 0..<2 { _ = registered.wait(timeout: .now() + .seconds(2)) }
}

/// Set once by the first stop signal.
private final class StopFlag: Sendable {
    private let raised = Mutex(false)

    /// Sets the flag; true when this call was the first.
    func raise() -> Bool {
        raised.withLock { raised in
            defer { raised = true }
            return !raised
        }
    }
}
