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
    let metrics = Metrics()
    let databasePath = configuration.database
    let hooks = ServiceHooks(
        export: { name in
            do {
                let exporter = try Exporter(databasePath: databasePath)
                guard let body = exporter.file(named: name) else { return nil }
                var response = HTTPResponse(status: 200, contentType: Exporter.contentType(of: name), body: body)
                response.headers.append(HTTPHeader("Content-Disposition", "attachment; filename=\"\(name)\""))
                response.headers.append(HTTPHeader("Cache-Control", "no-store"))
                if name == "report.html" {
                    response.headers.append(HTTPHeader("Content-Security-Policy", Exporter.reportContentSecurityPolicy))
                }
                return response
            } catch {
                logger.error("export failed", metadata: ["export": "\(name)", "error": "\(error)"])
                return nil
            }
        },
        store: store)
    let options = TransportOptions(configuration: configuration, echoConformance: echoConformance)
    let server = Server(
        room: room, options: options, sink: store, metrics: metrics, logger: logger,
        registerDurable: { report in
            store.onDurable = { sequence in
                metrics.storeWrite.record(Duration.nanoseconds(Int64(store.statistics.lastCommitSeconds * 1e9)))
                report(sequence)
            }
        },
        hooks: hooks)
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
