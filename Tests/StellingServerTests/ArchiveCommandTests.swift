import Foundation
import StellingLWS
import StellingTesting
import Testing

/// Issue 16: `stelling archive` and `stelling export --config` on a real Redis with two real
/// nodes (docs/SCALING.md): the archive is the event's usual SQLite file, its exports are those
/// of `export --config` and of the nodes' /export/*, and every refusal says why.
@Suite(.timeLimit(.minutes(5)), .serialized)
struct ArchiveCommandTests {
    /// Runs the built `stelling` to its end: its status and its standard output and error.
    static func stelling(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandLineTests.Run {
        try CommandLineTests.run(arguments, environment: environment)
    }

    /// The six exports of `folder`, with the export time taken out of session.json and
    /// report.html (the only part that differs between two runs of the same export).
    static func exports(in folder: URL) throws -> [String: String] {
        var files: [String: String] = [:]
        for name in ["results.csv", "votes.csv", "chat.csv", "questions.csv", "session.json", "report.html"] {
            // Decoded as bytes are (String(contentsOf:) would drop the CSVs' byte order mark).
            let text = String(decoding: try Data(contentsOf: folder.appendingPathComponent(name)), as: UTF8.self)
            files[name] = withoutExportTime(text)
        }
        return files
    }

    static func withoutExportTime(_ text: String) -> String {
        text.replacing(#/"(exported_at|computed_at)":"[^"]*"/#) { "\"\($0.output.1)\":\"…\"" }
            .replacing(#/(Geëxporteerd op|Exported on) [^·<]*·/#) { "\($0.output.1) … ·" }
    }

    /// An event played on two nodes: joins on both, a vote from everyone, chat from both nodes, a
    /// question; returns once both nodes' local copies give the same votes.csv.
    static func playEvent(_ nodes: [StellingProcess]) throws {
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try nodes[0].join(pool, [("type", "join"), ("role", "moderator"), ("key", ClusterTests.key), ("name", "M")])
        var people: [JoinedClient] = []
        for index in 0..<6 {
            people.append(try nodes[index % 2].join(pool, [("type", "join"), ("name", "P\(index)"), ("group", index < 3 ? "Rijk" : "Gemeente")]))
        }
        moderator.client.send(#"{"type":"next","ref":"n"}"#)
        #expect(try moderator.client.untilAnswer("n", timeout: 10).answer.string("type") == "ack")
        for (index, person) in people.enumerated() {
            _ = try ClusterTests.until(person.client, "statement") { $0.object("current")?.string("voting") == "open" }
            person.client.send(#"{"type":"vote","statement":"s1","choice":"\#(["agree", "disagree", "pass"][index % 3])","ref":"v"}"#)
            #expect(try person.client.untilAnswer("v", timeout: 10).answer.string("type") == "ack")
        }
        people[0].client.send(#"{"type":"chat","text":"Hallo van node a","ref":"c1"}"#)
        #expect(try people[0].client.untilAnswer("c1", timeout: 10).answer.string("type") == "ack")
        people[1].client.send(#"{"type":"chat","text":"En van node b","ref":"c2"}"#)
        #expect(try people[1].client.untilAnswer("c2", timeout: 10).answer.string("type") == "ack")
        moderator.client.send(#"{"type":"close","ref":"c"}"#)
        #expect(try moderator.client.untilAnswer("c", timeout: 10).answer.string("type") == "ack")
        moderator.client.send(#"{"type":"reveal","ref":"r"}"#)
        #expect(try moderator.client.untilAnswer("r", timeout: 10).answer.string("type") == "ack")
        // Both local copies caught up: the same votes.csv from both nodes, with all six votes.
        let deadline = Date().addingTimeInterval(15)
        var served: [[UInt8]] = []
        repeat {
            served = try nodes.map { try ClusterTests.export($0, "votes.csv") }
        } while (Set(served).count != 1 || lines(served[0]) != 7) && deadline.timeIntervalSinceNow > 0 && { usleep(100_000); return true }()
        #expect(Set(served).count == 1)
        #expect(lines(served[0]) == 7, "a header and six votes")
    }

    static func lines(_ bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count
    }

    @Test func theArchiveExportsWhatTheClusterServesAndExportConfigReadsRedis() throws {
        let redis = try RedisServer()
        let nodes = try ClusterTests.nodes(["a", "b"], redis: redis)
        try Self.playEvent(nodes)
        let folder = try CommandLineTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }

        let archive = folder.appendingPathComponent("archive/event.sqlite")
        let archived = try Self.stelling(["archive", "--config", nodes[0].config.path, "--out", archive.path])
        #expect(archived.status == 0, "\(archived.output)")
        #expect(archived.output.contains("event test-event archived"), "\(archived.output)")
        #expect(FileManager.default.fileExists(atPath: archive.path))

        let fromArchive = folder.appendingPathComponent("from-archive")
        let exported = try Self.stelling(["export", "--database", archive.path, "--out", fromArchive.path])
        #expect(exported.status == 0, "\(exported.output)")
        let fromConfig = folder.appendingPathComponent("from-config")
        let exportedLive = try Self.stelling(["export", "--config", nodes[1].config.path, "--out", fromConfig.path])
        #expect(exportedLive.status == 0, "\(exportedLive.output)")

        let archiveFiles = try Self.exports(in: fromArchive)
        #expect(archiveFiles == (try Self.exports(in: fromConfig)))
        // The files the nodes serve are those of the archive, from either node.
        for node in nodes {
            for (name, text) in archiveFiles {
                let served = Self.withoutExportTime(String(decoding: try ClusterTests.export(node, name), as: UTF8.self))
                #expect(served == text, "\(name) from node \(node.port) differs from the archive's")
            }
        }
        // And they hold the event: six votes, both chat messages.
        #expect(Self.lines(Array(archiveFiles["votes.csv", default: ""].utf8)) == 7)
        #expect(archiveFiles["chat.csv", default: ""].contains("Hallo van node a"))
        #expect(archiveFiles["chat.csv", default: ""].contains("En van node b"))

        // Every tool reads the archive as a single server's database.
        let analysed = try Self.stelling(["analyse", "--database", archive.path, "--json"])
        #expect(analysed.status == 0, "\(analysed.output)")

        // An existing --out is refused, and left as it was.
        let size = try FileManager.default.attributesOfItem(atPath: archive.path)[.size] as? Int
        let again = try Self.stelling(["archive", "--config", nodes[0].config.path, "--out", archive.path])
        #expect(again.status != 0)
        #expect(again.output.contains("\(archive.path) exists already; give a new file name"), "\(again.output)")
        #expect(try FileManager.default.attributesOfItem(atPath: archive.path)[.size] as? Int == size)
    }

    @Test func archiveRefusesAConfigurationWithoutAClusterSection() throws {
        let folder = try CommandLineTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("event.sqlite")
        let run = try Self.stelling(["archive", "--config", "config/seminar.yaml", "--out", out.path])
        #expect(run.status != 0)
        #expect(run.output.contains("config/seminar.yaml has no `cluster` section: a single server's database is its archive already"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func archiveAndExportOfAnEventRedisDoesNotHoldSaySo() throws {
        let redis = try RedisServer()
        let node = try StellingProcess(yaml: ClusterTests.yaml(redis: redis.url, node: "a", event: "nobody-started-this"), key: ClusterTests.key)
        let folder = try CommandLineTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("event.sqlite")
        let run = try Self.stelling(["archive", "--config", node.config.path, "--out", out.path])
        #expect(run.status == 1)
        #expect(run.output.contains("stelling archive: Redis at redis://127.0.0.1:\(redis.port)/0 holds no event nobody-started-this"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: out.path), "no half-made archive is left")

        let export = try Self.stelling(["export", "--config", node.config.path, "--out", folder.appendingPathComponent("exports").path])
        #expect(export.status == 1)
        #expect(export.output.contains("stelling export: Redis at redis://127.0.0.1:\(redis.port)/0 holds no event nobody-started-this"), "\(export.output)")
    }

    @Test func archiveWithRedisAwaySaysItCannotReachIt() throws {
        let port = try freePort()
        let node = try StellingProcess(yaml: ClusterTests.yaml(redis: "redis://127.0.0.1:\(port)/0", node: "a"), key: ClusterTests.key)
        let folder = try CommandLineTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("event.sqlite")
        let run = try Self.stelling(["archive", "--config", node.config.path, "--out", out.path])
        #expect(run.status == 1)
        #expect(run.output.contains("stelling archive:"), "\(run.output)")
        #expect(run.output.contains("127.0.0.1:\(port)"), "\(run.output)")
        #expect(!run.output.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
