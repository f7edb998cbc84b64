import Glibc
import CWebSockets
import Dispatch
import Foundation
import Logging
import StellingCore

/// Why the transport could not start.
public struct TransportError: Error, CustomStringConvertible {
    /// What failed, for people.
    public var description: String
}

/// Simple counters for /metrics. Read them on the service thread.
public struct TransportCounters: Sendable, Equatable {
    /// WebSocket connections open now.
    public var openConnections = 0
    /// Complete client messages received.
    public var messagesIn: UInt64 = 0
    /// WebSocket messages written (each may carry several events).
    public var messagesOut: UInt64 = 0
    /// Events written, counted one by one.
    public var eventsOut: UInt64 = 0
    /// WebSocket payload bytes written.
    public var bytesOut: UInt64 = 0
    /// TCP connections open now (HTTP and WebSocket), as the connection caps count them.
    public var openSockets = 0
    /// Outbound bytes queued now over all WebSocket connections (computed when read).
    public var queuedBytes = 0
    /// WebSocket connections closed with 1008 "too slow" (their queue passed its limit).
    public var closedTooSlow: UInt64 = 0
    /// Requests and upgrades refused with 503 because the total cap was reached.
    public var refusedOverTotal: UInt64 = 0
    /// Requests and upgrades refused with 429 because their address's cap was reached.
    public var refusedOverAddress: UInt64 = 0
    /// TCP connections closed unanswered at accept, far past a cap.
    public var droppedAtAccept: UInt64 = 0
    /// WebSocket upgrades refused with 403 for their Origin.
    public var refusedOrigin: UInt64 = 0
}

/// The HTTP and WebSocket server on libwebsockets.
///
/// Threads: `start()` creates one service thread that creates the lws context, runs
/// `lws_service` and every callback, and destroys the context at the end. `start()`,
/// `run()`, `stop()`, `waitUntilStopped()` and `boundPort` may be used from any thread;
/// `send`, `sendLatest`, `close` and `counters` only on the service thread (from a
/// `TransportHandler` method, from an actor whose executor is `loop`, or via
/// `loop.execute`), which debug builds check.
///
/// The server holds its handler strongly; a handler that keeps the server should hold it
/// weakly or unowned.
public final class WebSocketServer: @unchecked Sendable {
    /// The options the server was made with.
    public let options: TransportOptions
    /// The service loop: the executor for actors that must run on the service thread.
    public let loop: ServiceLoop

    let handler: any TransportHandler
    let logger: Logger
    let keepalive: Keepalive
    let upgradePolicy: UpgradePolicy
    /// The CSP-less security headers; lws adds them to every response (LWSConfiguration).
    let fixedHeaders: [HTTPHeader]

    // Written on the service thread before `start()` returns (ordered by `started`).
    private var listenPort = 0
    /// `reuse_port`: the socket Stelling listens on itself (lws then listens on nothing).
    private var sharedListener: SharedPortListener?
    private var startError: TransportError?
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let startLock = Lock()
    private var hasStarted = false

    // Service-thread state.
    var context: OpaquePointer?
    var connections: [ConnectionID: Connection] = [:]
    var transfers: [OpaquePointer: HTTPTransfer] = [:]
    var deferred: [OpaquePointer: DeferredHTTP] = [:]
    var nextDeferredNumber: UInt64 = 0
    var sockets: [OpaquePointer: SocketEntry] = [:]
    var limiter: ConnectionLimiter
    var statistics = TransportCounters()
    var shuttingDown = false
    private var nextConnectionNumber: UInt64 = 0
    private var shutdownDeadline: Int64 = 0
    private var lastSweep: Int64 = 0
    private var configuration: LWSConfiguration?
    private var eventLibrary: LWSEventLibrary?
    private let tickTimer: UnsafeMutablePointer<stelling_timer>
    /// The one buffer every write of the service thread goes through.
    let writeBuffer = WriteBuffer()

    /// Makes a server; nothing listens until `start()` or `run()`. Pass `loop` when the
    /// handler is an actor that needs the loop as its executor before the server exists.
    public init(options: TransportOptions, handler: some TransportHandler, loop: ServiceLoop = ServiceLoop(), logger: Logger) {
        self.options = options
        self.loop = loop
        self.handler = handler
        self.logger = logger
        self.keepalive = Keepalive(keepaliveSeconds: options.keepaliveSeconds)
        self.upgradePolicy = UpgradePolicy(subprotocol: options.subprotocol, echoConformance: options.echoConformance,
                                           originPolicy: OriginPolicy(allowedOrigins: options.allowedOrigins))
        self.fixedHeaders = SecurityHeaders.fixed(tls: options.tls != nil)
        self.limiter = ConnectionLimiter(maxConnections: options.maxConnections,
                                         maxConnectionsPerAddress: options.maxConnectionsPerAddress)
        tickTimer = .allocate(capacity: 1)
        tickTimer.initialize(to: stelling_timer())
    }

    deinit {
        tickTimer.deallocate()
    }

    /// The TCP port the server listens on (useful with port 0); 0 before `start()` returned.
    public var boundPort: Int { startLock.withLock { listenPort } }

    /// Starts the service thread and returns once the server listens (or failed to).
    public func start() throws(TransportError) {
        let alreadyStarted = startLock.withLock {
            defer { hasStarted = true }
            return hasStarted
        }
        if alreadyStarted { throw TransportError(description: "the server was already started") }
        signal(SIGPIPE, SIG_IGN)
        finished.enter()
        let thread = Thread { [self] in
            serviceThreadMain()
            finished.leave()
        }
        thread.name = "stelling-lws"
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
        if let startError = startLock.withLock({ self.startError }) { throw startError }
    }

    /// Starts the server and blocks until it has stopped.
    public func run() throws(TransportError) {
        try start()
        waitUntilStopped()
    }

    /// Blocks until the service thread has finished (returns at once if it never started).
    public func waitUntilStopped() {
        finished.wait()
    }

    /// Waits at most `timeoutMilliseconds` for the service thread to finish; true if it did.
    @discardableResult
    public func waitUntilStopped(timeoutMilliseconds: Int) -> Bool {
        finished.wait(timeout: .now() + .milliseconds(timeoutMilliseconds)) == .success
    }

    /// Asks for a graceful stop from any thread: stop accepting, flush and close every
    /// WebSocket with 1001, then end the service thread. Only sets a flag and wakes the loop.
    public func stop() {
        loop.requestStop()
    }

    /// The counters; read them on the service thread.
    public var counters: TransportCounters {
        loop.assertOnLoopThread()
        var counters = statistics
        counters.openSockets = limiter.openConnections
        counters.queuedBytes = connections.values.reduce(0) { $0 + $1.state.queuedBytes }
        return counters
    }

    // MARK: Outbound (service thread)

    /// Queues one encoded event; everything queued for a connection leaves as one message,
    /// events joined by "\n". The array is shared, not copied, until the write.
    public func send(_ id: ConnectionID, _ bytes: [UInt8]) {
        loop.assertOnLoopThread()
        guard let connection = connections[id], connection.state.acceptsEvents else { return }
        connection.state.outbound.append(bytes)
        afterQueueing(connection)
    }

    /// Queues a latest-value event: a pending older value in the same slot is dropped and this
    /// one goes where an event queued now would go.
    public func sendLatest(_ id: ConnectionID, slot: LatestValueSlot, _ bytes: [UInt8]) {
        loop.assertOnLoopThread()
        guard let connection = connections[id], connection.state.acceptsEvents else { return }
        connection.state.outbound.setLatest(slot, bytes)
        afterQueueing(connection)
    }

    /// Flushes what is queued for the connection, then closes it with `code` and `reason`.
    /// Later sends to it are dropped. A peer that does not read gets `keepaliveSeconds`.
    public func close(_ id: ConnectionID, code: CloseCode, reason: String) {
        loop.assertOnLoopThread()
        guard let connection = connections[id], connection.state.acceptsEvents else { return }
        requestClose(connection, code: code, reason: reason, timeoutSeconds: Int32(max(1, options.keepaliveSeconds)))
    }

    private func afterQueueing(_ connection: Connection) {
        if connection.state.outbound.byteCount > options.outboundQueueLimitBytes {
            logger.info("connection too slow", metadata: [
                "connection.id": "\(connection.id)",
                "connection.queued_bytes": "\(connection.state.outbound.byteCount)",
            ])
            dropTooSlow(connection)
            return
        }
        requestWritable(connection)
    }

    /// Drops a connection's queue and closes it with 1008 "too slow".
    func dropTooSlow(_ connection: Connection) {
        statistics.closedTooSlow += 1
        connection.state.dropQueues()
        requestClose(connection, code: .policyViolation, reason: "too slow", timeoutSeconds: 5)
    }

    /// Marks the connection for closing after its queue is flushed. With `timeoutSeconds`,
    /// lws drops it if that has not happened in time (one lws timer, so not used at shutdown).
    func requestClose(_ connection: Connection, code: CloseCode, reason: String, timeoutSeconds: Int32?) {
        connection.state.requestClose(code, reason: reason)
        if let timeoutSeconds {
            lws_set_timeout(connection.wsi, PENDING_TIMEOUT_LAGGING, timeoutSeconds)
        }
        requestWritable(connection)
    }

    // MARK: Service thread

    private func serviceThreadMain() {
        loop.bindCurrentThread()
        if let previous = raiseOpenFileLimit() {
            logger.warning("cannot raise the open file limit", metadata: ["server.file_limit": "\(previous)"])
        }
        LWSLog.install(logger)
        if let problem = startProblem() {
            startLock.withLock { startError = problem }
            started.signal()
            return
        }
        if options.reusePort {
            do {
                sharedListener = try SharedPortListener(host: options.host, port: options.port)
            } catch {
                startLock.withLock { startError = error }
                started.signal()
                return
            }
        }
        guard let eventLibrary = LWSEventLibrary(options.eventLoop) else {
            startLock.withLock { startError = TransportError(description: "cannot make a \(options.eventLoop.rawValue) event loop") }
            started.signal()
            return
        }
        self.eventLibrary = eventLibrary
        guard let context = createContext() else {
            eventLibrary.finish()
            self.eventLibrary = nil
            var description = "cannot listen on \(options.host):\(options.port)"
            if options.eventLoop != .poll {
                description += " on the \(options.eventLoop.rawValue) event loop (is libwebsockets' \(options.eventLoop.rawValue) plugin installed?)"
            }
            if let tls = options.tls {
                description += " with TLS (certificate \(tls.certificatePath), key \(tls.privateKeyPath)): "
                    + "is the port free, and are they a PEM certificate and its unencrypted private key?"
            }
            startLock.withLock { startError = TransportError(description: description) }
            started.signal()
            return
        }
        self.context = context
        let vhost = lws_get_vhost_by_name(context, "default")
        let port = sharedListener?.port ?? vhost.map { Int(lws_get_vhost_listen_port($0)) } ?? options.port
        startLock.withLock { listenPort = port }
        if let sharedListener, let vhost {
            let loop = self.loop
            let address = UInt(bitPattern: vhost)
            let server = self  // the listener stops before the server ends (beginShutdown, end of service)
            sharedListener.start { accepted in
                let queued = loop.execute {
                    guard let vhost = OpaquePointer(bitPattern: address) else { accepted.forEach { Glibc.close($0) }; return }
                    for fd in accepted { server.adoptShared(fd, into: vhost) }
                }
                if !queued { accepted.forEach { Glibc.close($0) } }
            }
        }
        loop.attach(context)
        lastSweep = monotonicMilliseconds()
        tickTimer.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
        scheduleTick()
        logger.info("transport listening", metadata: [
            "server.host": "\(options.host)", "server.port": "\(port)", "server.tls": "\(options.tls != nil)",
            "server.event_loop": "\(options.eventLoop.rawValue)", "server.backend": "\(eventLibrary.backend)",
        ])
        started.signal()

        serve(context, on: eventLibrary)

        sharedListener?.stop()
        lws_sul_cancel(stelling_timer_sul(tickTimer))
        loop.runPending()
        loop.detach()
        lws_context_destroy(context)  // closes what is left; CLOSED callbacks still arrive
        if !eventLibrary.finish() {
            logger.warning("event loop not closed", metadata: ["server.event_loop": "\(options.eventLoop.rawValue)"])
        }
        self.eventLibrary = nil
        self.context = nil
        configuration = nil
        loop.unbindThread()
        logger.info("transport stopped")
    }

    private func serve(_ context: OpaquePointer, on eventLibrary: LWSEventLibrary) {
        while true {
            loop.runPending()
            if !shuttingDown && loop.isStopRequested { beginShutdown() }
            if shuttingDown && (connections.isEmpty || monotonicMilliseconds() >= shutdownDeadline) { return }
            if !eventLibrary.serviceOnce(context) {
                logger.error("lws_service failed")
                return
            }
        }
    }

    private func beginShutdown() {
        shuttingDown = true
        sharedListener?.stop()
        shutdownDeadline = monotonicMilliseconds() + Int64(options.shutdownGraceMilliseconds)
        logger.info("transport stopping", metadata: ["server.connections": "\(connections.count)"])
        for connection in connections.values where connection.state.acceptsEvents {
            requestClose(connection, code: .goingAway, reason: "server shutting down", timeoutSeconds: nil)
        }
    }

    /// What makes starting pointless, found before lws is asked (whose own errors are vague).
    private func startProblem() -> TransportError? {
        if options.echoConformance && !isLoopbackHost(options.host) {
            return TransportError(description: "the conformance echo is refused on \(options.host): "
                + "listen on a loopback address (127.0.0.1, ::1 or localhost)")
        }
        guard let tls = options.tls else { return nil }
        for (what, path) in [("certificate", tls.certificatePath), ("private key", tls.privateKeyPath)] {
            if let problem = unreadableFileProblem(path) {
                return TransportError(description: "cannot read the TLS \(what) \(path): \(problem)")
            }
        }
        return nil
    }

    private func createContext() -> OpaquePointer? {
        let configuration = LWSConfiguration(subprotocol: options.subprotocol, host: options.host,
                                             echo: options.echoConformance, responseHeaders: fixedHeaders,
                                             tls: options.tls)
        self.configuration = configuration
        var info = lws_context_creation_info()
        // With `reuse_port` Stelling listens itself (SharedPortListener); the vhost serves what it adopts.
        info.port = options.reusePort ? CONTEXT_PORT_NO_LISTEN_SERVER : Int32(options.port)
        info.iface = UnsafePointer(configuration.iface)
        info.protocols = UnsafePointer(configuration.protocols)
        info.pvo = UnsafePointer(configuration.vhostOptions)
        info.mounts = UnsafePointer(configuration.mount)
        info.retry_and_idle_policy = UnsafePointer(configuration.retryPolicy)
        info.server_string = UnsafePointer(configuration.serverName)
        info.headers = UnsafePointer(configuration.responseHeaders)
        // The whole request head must arrive this long after the connection (lws holds a
        // header table for it meanwhile); idle keep-alive HTTP connections are closed after
        // the second; TLS handshakes and other lws round trips get the third.
        info.timeout_secs_ah_idle = UInt32(max(1, options.requestHeadTimeoutSeconds))
        info.keepalive_timeout = Int32(max(1, options.httpIdleTimeoutSeconds))
        info.timeout_secs = UInt32(max(1, options.requestHeadTimeoutSeconds))
        info.user = Unmanaged.passUnretained(self).toOpaque()
        // No extensions: permessage-deflate stays off (LIBWEBSOCKETS.md, PROTOCOL.md).
        info.extensions = nil
        var flags = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
        if isIPv4Literal(options.host) { flags |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6) }
        if options.tls != nil {
            flags |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            info.ssl_cert_filepath = UnsafePointer(configuration.certificatePath)
            info.ssl_private_key_filepath = UnsafePointer(configuration.privateKeyPath)
            // HTTP/1.1 only: the upgrade, origin and cap checks live on the HTTP/1 path.
            info.alpn = UnsafePointer(configuration.alpn)
        }
        info.options = flags
        eventLibrary?.configure(&info)  // the event library's option and loop; nothing for poll(2)
        return lws_create_context(&info)
    }

    private func scheduleTick() {
        guard let context else { return }
        let micros = Int64(max(1, options.tickIntervalMilliseconds)) * 1000
        lws_sul_schedule(context, 0, stelling_timer_sul(tickTimer), stellingTickFired, micros)
    }

    /// The tick timer fired: call the handler's tick and, when due, sweep for keep-alive.
    func tickFired() {
        scheduleTick()
        handler.tick(nowMilliseconds: wallClockMilliseconds())
        let now = monotonicMilliseconds()
        if now - lastSweep >= keepalive.sweepIntervalMilliseconds {
            lastSweep = now
            sweep(now: now)
        }
    }

    /// One pass over every connection: ping the quiet ones, drop the silent ones.
    private func sweep(now: Int64) {
        for connection in connections.values {
            switch connection.state.sweep(keepalive, now: now) {
            case .none:
                break
            case .ping:
                requestWritable(connection)
            case .drop:
                logger.debug("connection silent, dropping", metadata: ["connection.id": "\(connection.id)"])
                lws_set_timeout(connection.wsi, PENDING_TIMEOUT_LAGGING, LWS_TO_KILL_ASYNC)
            }
        }
    }

    /// Makes a new connection number.
    func makeConnectionID() -> ConnectionID {
        nextConnectionNumber += 1
        return ConnectionID(nextConnectionNumber)
    }
}

/// The lws timer callback: recovers the server from the timer's owner pointer.
private func stellingTickFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul, let owner = stelling_timer_owner(sul) else { return }
    Unmanaged<WebSocketServer>.fromOpaque(owner).takeUnretainedValue().tickFired()
}

/// Why the regular file at `path` cannot be read, or nil when it can.
private func unreadableFileProblem(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return String(cString: strerror(errno)) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
    return nil
}

private func isIPv4Literal(_ host: String) -> Bool {
    var address = in_addr()
    return inet_pton(AF_INET, host, &address) == 1
}
