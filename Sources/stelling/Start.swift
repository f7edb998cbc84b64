import Foundation
import Logging
import StellingCluster
import StellingCore
import StellingServer
import StellingStore
import StellingLWS

/// Why the server could not start, for people.
struct StartError: Error, CustomStringConvertible {
    var description: String
}

/// Opens the event's database, rebuilds the room from it, and starts the server; returns once
/// it listens. SIGINT/SIGTERM stop it gracefully, flushing the store first.
func startServer(configuration: Configuration, settings: ServerSettings, logger: Logger,
                 echoConformance: Bool = false) throws -> Server {
    if let cluster = settings.cluster {
        return try startNode(cluster, configuration: configuration, settings: settings, logger: logger, echoConformance: echoConformance)
    }
    if let days = configuration.retentionDays, FileManager.default.fileExists(atPath: settings.database) {
        // retention_days: an event whose last activity is older loses its personal data first.
        var random = SystemRandomNumberGenerator()
        do {
            let summary = try Privacy.purge(databasePath: settings.database, olderThanDays: days,
                                            now: Instant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))),
                                            random: &random)
            if summary.purged {
                logger.notice("personal data purged", metadata: [
                    "retention.days": "\(days)", "purge.participants": "\(summary.participants)",
                    "purge.messages": "\(summary.messages)",
                ])
            }
        } catch {
            throw StartError(description: "cannot purge the database \(settings.database) (retention_days): \(error)")
        }
    }
    let store: EventStore
    let records: [Record]
    do {
        store = try EventStore(path: settings.database, configuration: configuration)
        records = try store.recover()
    } catch {
        throw StartError(description: "cannot open the database \(settings.database): \(error)")
    }
    let room = Room(configuration: configuration, replaying: records)
    if !records.isEmpty {
        logger.info("event recovered", metadata: [
            "store.records": "\(records.count)", "room.participants": "\(room.participants.count)",
            "statement.id": "\(room.currentStatement?.rawValue ?? "none")",
        ])
    }
    let options = TransportOptions(settings: settings, configuration: configuration, echoConformance: echoConformance)
    let server = Server(room: room, options: options, store: store, logger: logger)
    store.onFailure = { reason in logger.error("store write failed", metadata: ["store.failure": "\(reason)"]) }
    server.installSignalHandlers(drain: {
        if !store.close(timeout: 10) {
            logger.error("store closed with records not written")
        }
    })
    do {
        try server.start()
    } catch {
        store.close(timeout: 5)
        throw StartError(description: "cannot listen on \(settings.host):\(settings.port): \(error)")
    }
    return server
}

/// Issue 16: starts one node of a cluster (docs/SCALING.md). It joins the event's log in Redis,
/// rebuilds the room from the whole log, brings its local database (a copy for exports) up to
/// date, says in the log that it started, and serves.
func startNode(_ cluster: ClusterSettings, configuration: Configuration, settings: ServerSettings, logger: Logger,
               echoConformance: Bool) throws -> Server {
    let url: RedisURL
    do {
        url = try RedisURL(parsing: cluster.redis)
    } catch {
        throw StartError(description: "cluster.redis: \(error)")
    }
    let log = ClusterLog(url: url, event: cluster.event, nodeName: cluster.node, logger: logger)
    do {
        try log.open(settings: EventSettings.of(configuration))
    } catch {
        throw StartError(description: "cannot join event \(cluster.event) as node \(cluster.node): \(error)")
    }
    let store: EventStore
    let local: [Record]
    do {
        store = try EventStore(path: settings.database, configuration: configuration)
        local = try store.recover()
    } catch {
        throw StartError(description: "cannot open the database \(settings.database): \(error)")
    }
    var room = Room(configuration: configuration)
    var follower = LogFollower(node: log.node)
    var produced = 0
    var entries = 0
    do {
        try log.readAll(after: .start) { logged in
            entries += 1
            for record in follower.apply(logged, to: &room).records {
                if produced < local.count {
                    guard local[produced] == record else {
                        throw StartError(description: "the local database \(settings.database) is not a copy of event \(cluster.event) in Redis (record \(produced + 1) differs); move it away and start again: the node makes a new copy from Redis")
                    }
                } else {
                    _ = store.append(record)
                }
                produced += 1
            }
        }
    } catch {
        store.close(timeout: 5)
        throw (error as? StartError) ?? StartError(description: "cannot read event \(cluster.event) from Redis: \(error)")
    }
    guard produced >= local.count else {
        store.close(timeout: 5)
        throw StartError(description: "the local database \(settings.database) holds \(local.count) records, event \(cluster.event) in Redis only \(produced): Redis lost records, or the file belongs to another event; move it away (keep it!) and start again")
    }
    logger.info("cluster joined", metadata: [
        "cluster.event": "\(cluster.event)", "cluster.node_name": "\(cluster.node)", "cluster.node": "\(log.node)",
        "redis.url": "\(url)", "cluster.log_entries": "\(entries)", "store.records": "\(produced)",
        "store.records_copied": "\(produced - local.count)",
    ])
    log.append(ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: log.node), body: .nodeStarted(name: cluster.node)))
    let options = TransportOptions(settings: settings, configuration: configuration, echoConformance: echoConformance)
    let server = Server(room: room, options: options, store: store, logger: logger, cluster: log, follower: follower)
    store.onFailure = { reason in logger.error("store write failed", metadata: ["store.failure": "\(reason)"]) }
    server.installSignalHandlers(drain: {
        log.stop(timeout: 5)
        if !store.close(timeout: 10) {
            logger.error("store closed with records not written")
        }
    })
    do {
        try server.start()
    } catch {
        log.stop(timeout: 1)
        store.close(timeout: 5)
        throw StartError(description: "cannot listen on \(settings.host):\(settings.port): \(error)")
    }
    return server
}
