import Dispatch
import Logging
import StellingCluster
import StellingCore
import StellingStore
import StellingLWS

/// The imperative shell around the `Room` (DESIGN.md): it receives what the transport
/// delivers, asks the room, and carries out the effects in order. Its executor is the
/// libwebsockets service loop, so every member runs on the service thread; transport
/// callbacks enter it with `assumeIsolated`.
///
/// Ordering: the `then` effects of a `persist` wait until the store reports the record
/// durable, and every effect produced after it waits behind it, so each connection sees
/// events in the order the room made them. A broadcast reaches the connections admitted
/// when the room made it (a joiner's welcome snapshot already holds what came before).
public actor EventService: TransportHandler {
    /// The service loop this actor runs on.
    public nonisolated let loop: ServiceLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    var room: Room
    /// Takes every record (group commit on its own thread); also asked for health and totals.
    nonisolated let store: EventStore
    let metrics: Metrics
    let logger: Logger
    var random = BufferedSystemRandom()
    nonisolated(unsafe) weak var transport: WebSocketServer?
    private nonisolated let moderatorKey: String?

    private var sequencer = EffectSequencer()
    private var accepting = true
    var peers: [ConnectionID: String] = [:]
    var admission: AdmissionPolicy
    /// Issue 16: the event's log when this node is one of several (docs/SCALING.md); nil for a single server.
    nonisolated let cluster: ClusterLog?
    /// How this node follows the log (cluster only).
    var follower: LogFollower
    /// Where the start-up replay left the log: the reader goes on from there.
    public nonisolated let initialPosition: LogPosition
    /// The secrets of this node's joins in the log, per connection, oldest first.
    var pendingSecrets: [ConnectionID: [JoinSecrets]] = [:]
    /// This node's number in the cluster (0: a single server).
    nonisolated var node: UInt32 { cluster?.node ?? 0 }
    /// Wrong moderator keys on `/export/*`, per client address (ExportGuard).
    private var exportGuard = AddressRateLimiter(burst: EventService.exportKeyBurst, perSecond: EventService.exportKeysPerSecond)

    /// Makes the service for a room rebuilt from the store's records (or a new one).
    public init(room: Room, loop: ServiceLoop, store: EventStore, metrics: Metrics, logger: Logger,
                cluster: ClusterLog? = nil, follower: LogFollower? = nil) {
        self.room = room
        self.cluster = cluster
        self.follower = follower ?? LogFollower(node: cluster?.node ?? 0)
        self.initialPosition = follower?.position ?? .start
        self.store = store
        self.moderatorKey = room.configuration.moderatorKey
        self.admission = AdmissionPolicy(limits: room.configuration.limits)
        self.loop = loop
        self.metrics = metrics
        self.logger = logger
    }

    /// Connects the transport; call once before the transport starts.
    public nonisolated func attach(_ transport: WebSocketServer) {
        self.transport = transport
    }

    // MARK: TransportHandler (service thread)

    public nonisolated func connectionOpened(_ id: ConnectionID, peer: String, origin: String?) {
        assumeIsolated { service in
            service.metrics.connections.increment()
            service.peers[id] = peer
            // Never a whole address in the log (docs/PRIVACY.md): at debug its /24 or /48 only.
            service.logger.debug("connection opened", metadata: ["connection.id": "\(id)", "client.address": "\(PeerAddress.truncated(peer))"])
        }
    }

    public nonisolated func messageReceived(_ id: ConnectionID, text: [UInt8]) {
        assumeIsolated { service in service.receive(id, text) }
    }

    public nonisolated func connectionClosed(_ id: ConnectionID) {
        assumeIsolated { service in
            service.metrics.connections.decrement()
            let global = ClusterConnection.global(id, node: service.node)
            if let role = service.room.role(of: global) {
                service.metrics.joined(role).decrement()
                service.logger.debug("left", metadata: ["connection.id": "\(id)", "participant.role": "\(role.rawValue)"])
            }
            service.peers[id] = nil
            if let cluster = service.cluster {
                // Every node forgets the connection when the log says so.
                service.pendingSecrets[global] = nil
                cluster.append(ReplicatedEntry(connection: global, body: .closed))
            } else {
                service.room.disconnect(id)
            }
        }
    }

    public nonisolated func tick(nowMilliseconds: Int64) {
        assumeIsolated { service in
            service.carryOut(service.room.tick(now: Instant(milliseconds: nowMilliseconds)))
            service.metrics.present.set(Int64(service.room.present))
        }
    }

    public nonisolated func httpRequest(_ request: HTTPRequest) -> HTTPResponse? {
        assumeIsolated { service in service.answer(request) }
    }

    /// Exports are made off the service thread: reading a large event takes a second.
    public nonisolated func httpRequestLater(_ request: HTTPRequest, reply: @escaping @Sendable (HTTPResponse) -> Void) -> Bool {
        let path = store.path
        let logger = self.logger
        let names = EventService.wantsNames(request.query)
        if request.path == EventService.analysisPath {
            let store = self.store
            DispatchQueue.global(qos: .utility).async {
                reply(EventService.analysis(databasePath: path, durableSequence: store.durableSequence, logger: logger))
            }
            return true
        }
        guard let name = EventService.exportName(request.path) else { return false }
        DispatchQueue.global(qos: .utility).async {
            reply(EventService.export(name, databasePath: path, names: names, logger: logger))
        }
        return true
    }

    /// The file name of an `/export/NAME` path.
    static func exportName(_ path: String) -> String? {
        guard path.hasPrefix("/export/") else { return nil }
        let name = String(path.dropFirst("/export/".count))
        return Exporter.fileNames.contains(name) ? name : nil
    }

    /// Whether an export's query asks for participants' names: `names=1` (PROTOCOL.md, names;
    /// `names=true` is read the same). Without it the exports carry ids only.
    static func wantsNames(_ query: String) -> Bool {
        query.split(separator: "&").contains { $0 == "names=1" || $0 == "names=true" }
    }

    /// One export file as a download, read from the database (a consistent snapshot; WAL lets
    /// it read while the store writes); names only when `names` is set.
    static func export(_ name: String, databasePath: String, names: Bool = false, logger: Logger) -> HTTPResponse {
        do {
            let exporter = try Exporter(databasePath: databasePath, names: names)
            guard let body = exporter.file(named: name) else { return .text("No such export.\n", status: 404) }
            var response = HTTPResponse(status: 200, contentType: Exporter.contentType(of: name), body: body)
            response.headers.append(HTTPHeader("Content-Disposition", "attachment; filename=\"\(name)\""))
            response.headers.append(HTTPHeader("Cache-Control", "no-store"))
            if name == "report.html" {
                response.headers.append(HTTPHeader("Content-Security-Policy", Exporter.reportContentSecurityPolicy))
            }
            return response
        } catch {
            logger.error("export failed", metadata: ["export.name": "\(name)", "error": "\(error)"])
            return .text("The export could not be made; see the server log.\n", status: 500)
        }
    }

    // MARK: Requests and effects

    private func receive(_ id: ConnectionID, _ text: [UInt8]) {
        metrics.messagesIn.increment()
        let now = Instant(milliseconds: wallClockMilliseconds())
        let decoded = Request.decode(text)
        if (cluster?.backlog ?? store.backlog) >= room.configuration.limits.storeBacklogRecords {
            // The store cannot write (a full disk) and its backlog is at the bound: refuse new
            // work instead of queueing it, so memory stays flat; what was acked is on disk.
            // The refusal goes out at once, ahead of the answers still waiting for the disk:
            // it changed nothing, so nothing it could overtake depends on it.
            let ref: String? = if case let .success(request) = decoded { request.ref } else { nil }
            perform(.send(ClusterConnection.global(id, node: node), .error(.unavailable, ref: ref)), admittedUpTo: room.admissions)
            return
        }
        let global = ClusterConnection.global(id, node: node)
        if case let .success(request) = decoded, case .join = request.body, room.role(of: global) == nil {
            let address = peers[id] ?? "unknown"
            let decision = admission.admit(address, at: now)
            if decision != .admitted {
                let retryAfter = admission.retryAfterMilliseconds(address, decision, at: now)
                carryOut([.send(global, .rateLimited(retryAfterMilliseconds: retryAfter,
                                                     message: "Many people are joining at once; trying again shortly.", ref: request.ref))])
                return
            }
        }
        if let cluster {
            // A malformed message goes through the log too, so that its `bad_request` keeps its
            // place among the connection's answers (each waits for its request to come back).
            if case let .success(request) = decoded {
                cluster.append(replicated(request, text, from: global))
            } else {
                cluster.append(ReplicatedEntry(connection: global, body: .request(text)))
            }
            return
        }
        carryOut(room.handle(decoded, from: global, now: now, random: &random))
    }

    /// Carries effects out in order, holding everything behind a record that is not durable
    /// yet (`EffectSequencer`).
    func carryOut(_ effects: [Effect]) {
        guard !effects.isEmpty else { return }
        let ready = sequencer.submit(effects, admittedUpTo: room.admissions) { record in
            count(record)
            return store.append(record)
        }
        for item in ready { perform(item.effect, admittedUpTo: item.admittedUpTo) }
    }

    /// The store reports every record up to `sequence` durable: what waited for them goes out.
    public func durable(upTo sequence: UInt64) {
        for item in sequencer.durable(upTo: sequence) { perform(item.effect, admittedUpTo: item.admittedUpTo) }
    }

    /// Carries one effect out for this node's connections (in a cluster the room's effects name
    /// every node's connections: the others' are theirs to serve).
    func perform(_ effect: Effect, admittedUpTo: UInt64) {
        guard let transport else { return }
        let node = self.node
        switch effect {
        case let .send(global, event):
            guard ClusterConnection.node(of: global) == node else { return }
            let id = ClusterConnection.local(global)
            observe(event, to: id)
            deliver(event.encoded(), slot: event.latestValueSlot, to: id, on: transport)
            metrics.eventsOut.increment()
        case let .broadcast(event, audience):
            // Encoded once; the same buffer is queued on every recipient (DESIGN.md, Fan-out).
            let bytes = event.encoded()
            let slot = event.latestValueSlot
            var count: Int64 = 0
            for global in room.recipients(of: audience, admittedUpTo: admittedUpTo) where ClusterConnection.node(of: global) == node {
                deliver(bytes, slot: slot, to: ClusterConnection.local(global), on: transport)
                count += 1
            }
            metrics.eventsOut.increment(by: count)
        case let .close(global, code):
            guard ClusterConnection.node(of: global) == node else { return }
            let id = ClusterConnection.local(global)
            let reason = switch code {
            case .policyViolation: "unauthorized"
            case .erased: "erased"
            default: ""
            }
            transport.close(id, code: code, reason: reason)
        case .persist:
            assertionFailure("a persist effect inside `then` is not supported")
        }
    }

    private func deliver(_ bytes: [UInt8], slot: LatestValueSlot?, to id: ConnectionID, on transport: WebSocketServer) {
        if let slot { transport.sendLatest(id, slot: slot, bytes) } else { transport.send(id, bytes) }
    }

    private func observe(_ event: Event, to id: ConnectionID) {
        switch event {
        case let .error(code, _, _):
            metrics.error(code).increment()
            if code == .unauthorized {
                logger.warning("moderator key refused", metadata: [
                    "connection.id": "\(id)", "client.address": "\(PeerAddress.truncated(peers[id] ?? "unknown"))",
                ])
            }
        case .rateLimited:
            metrics.error(.rateLimited).increment()
        case let .welcome(welcome, _):
            metrics.joined(welcome.you.role).increment()
            logger.debug("joined", metadata: ["connection.id": "\(id)", "participant.role": "\(welcome.you.role.rawValue)", "participant.id": "\(welcome.you.id)"])
        default:
            break
        }
    }

    func count(_ record: Record) {
        switch record {
        case .voteCast: metrics.votes.increment()
        case .chatPosted: metrics.chatMessages.increment()
        case .questionAsked: metrics.questions.increment()
        case .questionUpvoted: metrics.upvotes.increment()
        default: break
        }
    }

    // MARK: HTTP

    /// Stops `/healthz` from answering ok (shutdown has begun).
    public func stopAccepting() { accepting = false }

    private func answer(_ request: HTTPRequest) -> HTTPResponse? {
        switch request.path {
        case "/healthz":
            if !accepting { return .json("{\"status\":\"stopping\"}", status: 503) }
            if let failure = cluster?.failure {
                var json = JSONWriter()
                json.beginObject(); json.field("status", "redis unreachable"); json.field("reason", failure); json.endObject()
                return .json(String(decoding: json.bytes, as: UTF8.self), status: 503)
            }
            if let failure = store.currentFailure {
                var json = JSONWriter()
                json.beginObject(); json.field("status", "store failing"); json.field("reason", failure); json.endObject()
                return .json(String(decoding: json.bytes, as: UTF8.self), status: 503)
            }
            return .json("{\"status\":\"ok\"}")
        case "/metrics":
            if let transport { metrics.update(from: transport.counters) }
            metrics.update(from: store.statistics)
            if let cluster {
                metrics.clusterBacklog.set(Int64(cluster.backlog))
                metrics.clusterRedisUp.set(Int64(cluster.failure == nil ? 1 : 0))
                metrics.clusterNodes.set(Int64(room.clusterNodes.count))
            }
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
        case "/event.json":
            return .json(String(decoding: eventInfo(), as: UTF8.self))
        case "/qr.svg":
            return joinCode(request)
        default:
            guard request.path.hasPrefix("/export/") || request.path == EventService.analysisPath else { return nil }
            let now = Instant(milliseconds: wallClockMilliseconds())
            let client = AddressRateLimiter.key(for: request.clientAddress)
            guard exportGuard.hasToken(client, at: now) else {
                let seconds = (exportGuard.millisecondsUntilToken(client, at: now) + 999) / 1000
                logger.warning("export refused after wrong keys", metadata: ["client.address": "\(PeerAddress.truncated(request.clientAddress))"])
                return HTTPResponse(status: 429, contentType: "text/plain; charset=utf-8",
                                    headers: [HTTPHeader("Retry-After", "\(seconds)"), HTTPHeader("Cache-Control", "no-store")],
                                    body: Array("Too many wrong moderator keys from your address; try again later.\n".utf8))
            }
            guard let key = moderatorKey, let given = request.authorization, given.hasPrefix("Bearer "),
                  Room.keysMatch(String(given.dropFirst("Bearer ".count)), key) else {
                _ = exportGuard.take(client, at: now)
                logger.warning("export key refused", metadata: ["client.address": "\(PeerAddress.truncated(request.clientAddress))", "http.path": "\(request.path)"])
                var response = HTTPResponse.text("The exports need the moderator key: Authorization: Bearer <key>.\n", status: 401)
                response.headers.append(HTTPHeader("WWW-Authenticate", "Bearer realm=\"stelling\""))
                return response
            }
            guard request.path == EventService.analysisPath || EventService.exportName(request.path) != nil else { return .text("No such export.\n", status: 404) }
            return nil // made off the service thread by httpRequestLater
        }
    }

    /// `GET /qr.svg`: the participant page's address as a QR code (PROTOCOL.md, Revision 2).
    private func joinCode(_ request: HTTPRequest) -> HTTPResponse {
        guard let address = JoinAddress.resolve(publicURL: room.configuration.publicURL, host: request.host, secure: request.secure) else {
            return .text("The request has no usable Host header; set public_url in the configuration.\n", status: 400)
        }
        guard let code = QRCode(text: address) else {
            logger.error("join code failed", metadata: ["address.length": "\(address.utf8.count)"])
            return .text("The address does not fit in a QR code.\n", status: 500)
        }
        var response = HTTPResponse(status: 200, contentType: "image/svg+xml; charset=utf-8", body: Array(code.svg(title: address).utf8))
        // The address depends on the request's Host header unless public_url is set.
        response.headers.append(HTTPHeader("Cache-Control", "no-store"))
        response.headers.append(HTTPHeader("X-Stelling-Address", address))
        return response
    }

    /// What the join page needs before joining: title, language, groups, programme, limits,
    /// and the privacy settings the pages render (`minGroupSize`, `ballot`).
    private func eventInfo() -> [UInt8] {
        let configuration = room.configuration
        var json = JSONWriter()
        json.beginObject()
        json.field("title", configuration.title)
        json.field("language", configuration.language)
        json.key("groups"); json.write(strings: configuration.groups)
        json.key("programme"); json.write(configuration.programme)
        json.field("public_url", configuration.publicURL)
        json.key("limits")
        json.beginObject()
        json.field("chat_chars", configuration.limits.chatChars)
        json.field("name_chars", TextRules.maximumNameLength)
        json.field("question_chars", configuration.limits.questionChars)
        json.endObject()
        // Privacy (docs/PRIVACY.md): pages show "< minGroupSize" for smaller groups, and say
        // what a secret ballot keeps.
        json.field("minGroupSize", configuration.privacy.minGroupSize)
        json.field("ballot", configuration.privacy.ballot.rawValue)
        json.endObject()
        return json.bytes
    }
}

extension EventService {
    /// Wrong moderator keys one address may try on `/export/*` at once: 10.
    public static let exportKeyBurst = 10
    /// Wrong keys a second after that: one a minute.
    public static let exportKeysPerSecond = 1.0 / 60
}

extension HTTPResponse {
    /// A JSON response.
    static func json(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json; charset=utf-8",
                     headers: [HTTPHeader("Cache-Control", "no-store")], body: Array(text.utf8))
    }
}
