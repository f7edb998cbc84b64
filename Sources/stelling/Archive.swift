import ArgumentParser
import Foundation
import Logging
import StellingCluster
import StellingCore
import StellingServer
import StellingStore

struct Archive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes a cluster's whole event from Redis into one SQLite file, for exports, analysis and purge (docs/SCALING.md).")

    @Option(name: .long, help: "A node's configuration file (its `cluster` section names Redis and the event).")
    var config: String

    @Option(name: .long, help: "The SQLite file to write (must not exist yet).")
    var out: String

    func run() throws {
        let contents = try loadConfiguration(config)
        guard let cluster = contents.server.cluster else {
            throw ValidationError("\(config) has no `cluster` section: a single server's database is its archive already (\(contents.server.database))")
        }
        guard !FileManager.default.fileExists(atPath: out) else {
            throw ValidationError("\(out) exists already; give a new file name")
        }
        do {
            let summary = try archiveEvent(cluster, configuration: contents.room, to: out)
            print("\(out): event \(cluster.event) archived, \(summary.records) records from \(summary.entries) log entries")
        } catch {
            try? FileManager.default.removeItem(atPath: out)
            FileHandle.standardError.write(Data("stelling archive: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Reads the event's whole log from Redis, replays it, and writes the records it makes into a new
/// SQLite database at `path`: the same file a single server keeps.
func archiveEvent(_ cluster: ClusterSettings, configuration: Configuration, to path: String) throws -> (records: Int, entries: Int) {
    let url: RedisURL
    do {
        url = try RedisURL(parsing: cluster.redis)
    } catch {
        throw StartError(description: "cluster.redis: \(error)")
    }
    let log = ClusterLog(url: url, event: cluster.event, nodeName: cluster.node, logger: Logger(label: "stelling.archive"))
    var room = Room(configuration: configuration)
    var follower = LogFollower(node: 0)
    var records: [Record] = []
    var entries = 0
    try log.readAll(after: .start) { logged in
        entries += 1
        records += follower.apply(logged, to: &room).records
    }
    guard entries > 0 else { throw StartError(description: "Redis at \(url) holds no event \(cluster.event)") }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let store = try EventStore(path: path, configuration: configuration)
    var last: UInt64 = 0
    for record in records { last = store.append(record) }
    let written = records.isEmpty || store.waitUntilDurable(last, timeout: 120)
    _ = store.close(timeout: 30)
    guard written else { throw StartError(description: "the archive \(path) could not be written: \(store.currentFailure ?? "timed out")") }
    return (records.count, entries)
}
