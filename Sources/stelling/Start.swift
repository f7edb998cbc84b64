import Foundation
import Logging
import StellingCore
import StellingServer
import StellingStore

/// Why the server could not start, for people.
struct StartError: Error, CustomStringConvertible {
    var description: String
}

/// Opens the event's database, rebuilds the room from it, and starts the server; returns once
/// it listens. SIGINT/SIGTERM stop it gracefully, flushing the store first.
func startServer(configuration: Configuration, logger: Logger, echoConformance: Bool = false) throws -> Server {
    if let days = configuration.retentionDays, FileManager.default.fileExists(atPath: configuration.database) {
        // retention_days: an event whose last activity is older loses its personal data first.
        var random = SystemRandomNumberGenerator()
        do {
            let summary = try Privacy.purge(databasePath: configuration.database, olderThanDays: days,
                                            now: Instant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))),
                                            random: &random)
            if summary.purged {
                logger.notice("personal data purged", metadata: [
                    "retention.days": "\(days)", "participants": "\(summary.participants)", "messages": "\(summary.messages)",
                ])
            }
        } catch {
            throw StartError(description: "cannot purge the database \(configuration.database) (retention_days): \(error)")
        }
    }
    let store: EventStore
    let records: [Record]
    do {
        store = try EventStore(path: configuration.database, configuration: configuration)
        records = try store.recover()
    } catch {
        throw StartError(description: "cannot open the database \(configuration.database): \(error)")
    }
    let room = Room(configuration: configuration, replaying: records)
    if !records.isEmpty {
        logger.info("event recovered", metadata: [
            "records": "\(records.count)", "participants": "\(room.participants.count)",
            "statement": "\(room.currentStatement?.rawValue ?? "none")",
        ])
    }
    let options = TransportOptions(configuration: configuration, echoConformance: echoConformance)
    let server = Server(room: room, options: options, store: store, logger: logger)
    store.onFailure = { reason in logger.error("store write failed", metadata: ["reason": "\(reason)"]) }
    server.installSignalHandlers(drain: {
        if !store.close(timeout: 10) {
            logger.error("store closed with records not written")
        }
    })
    do {
        try server.start()
    } catch {
        store.close(timeout: 5)
        throw StartError(description: "cannot listen on \(configuration.host):\(configuration.port): \(error)")
    }
    return server
}
