import Foundation
import StellingTesting
import Testing

/// `make node`, `make redis` and `make redis-stop` (scripts/cluster.sh, README "More than one
/// node"): the event's Redis is started durable once and reused, the moderator key is made once
/// and private, a Redis that could lose votes is refused with the fix, and `redis-stop` stops
/// only the Redis the script started. On a free port and a temporary folder (CLUSTER_REDIS_PORT,
/// CLUSTER_DATA), never 6380 or the repository's data/.
@Suite(.timeLimit(.minutes(2)), .serialized)
struct ClusterScriptTests {
    static let script = StellingProcess.root.appendingPathComponent("scripts/cluster.sh").path

    /// Runs `bash scripts/cluster.sh ARGUMENTS` to its end (at most 30 s): status and standard
    /// output and error. The output goes through a file, not a pipe: the Redis the script
    /// daemonizes must not keep the test waiting for the end of a pipe.
    static func run(_ arguments: [String], data: URL, port: Int) throws -> CommandLineTests.Run {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-cluster-sh-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CLUSTER_DATA"] = data.path
        environment["CLUSTER_REDIS_PORT"] = String(port)
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, deadline.timeIntervalSinceNow > 0 { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            throw TestFailure("scripts/cluster.sh \(arguments.joined(separator: " ")) did not end within 30 s: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
        return CommandLineTests.Run(status: process.terminationStatus, output: (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// `redis-cli -p PORT ARGUMENTS`' answer, trimmed ("" when nothing answers).
    static func redisCLI(_ port: Int, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-cli", "-h", "127.0.0.1", "-p", String(port)] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theEventsRedisStartsDurableOnceIsReusedAndStopsWithItsOwnCommand() throws {
        let data = try CommandLineTests.temporaryFolder()
        let port = try freePort()
        defer {
            _ = try? Self.run(["redis-stop"], data: data, port: port)
            try? FileManager.default.removeItem(at: data)
        }
        let first = try Self.run(["redis"], data: data, port: port)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("Redis started on 127.0.0.1:\(port)"), "\(first.output)")
        #expect(try Self.redisCLI(port, ["ping"]) == "PONG")
        #expect(try Self.redisCLI(port, ["config", "get", "appendonly"]) == "appendonly\nyes")
        #expect(try Self.redisCLI(port, ["config", "get", "appendfsync"]) == "appendfsync\nalways")
        #expect(try Self.redisCLI(port, ["config", "get", "dir"]).hasSuffix(data.appendingPathComponent("redis").path))
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("redis/redis.log").path))

        // The moderator key: made once, 32 URL-safe characters, readable by its owner only.
        let keyFile = data.appendingPathComponent("cluster.moderator-key").path
        let key = try String(contentsOfFile: keyFile, encoding: .utf8)
        #expect(key.count == 32)
        #expect(key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        let permissions = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        // The second node finds it, and the same key.
        let second = try Self.run(["redis"], data: data, port: port)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("Redis answers on 127.0.0.1:\(port) (appendonly yes, appendfsync always): using it"), "\(second.output)")
        #expect(!second.output.contains("Redis started"))
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == key)

        let stop = try Self.run(["redis-stop"], data: data, port: port)
        #expect(stop.status == 0, "\(stop.output)")
        #expect(stop.output.contains("stopped; the event stays in data/redis/"), "\(stop.output)")
        #expect(try Self.redisCLI(port, ["ping"]) == "")
        let again = try Self.run(["redis-stop"], data: data, port: port)
        #expect(again.status == 0)
        #expect(again.output.contains("no Redis started by make node is running"), "\(again.output)")
    }

    @Test func aRedisThatCouldLoseVotesIsRefusedWithTheFixAndNeverStopped() throws {
        let lossy = try RedisServer(appendfsync: "everysec")
        let data = try CommandLineTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let run = try Self.run(["redis"], data: data, port: lossy.port)
        #expect(run.status == 1)
        #expect(run.output.contains("a Redis on 127.0.0.1:\(lossy.port) runs with appendonly yes, appendfsync everysec: it could lose acknowledged votes"), "\(run.output)")
        #expect(run.output.contains("config set appendfsync always"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("cluster.moderator-key").path))

        let stop = try Self.run(["redis-stop"], data: data, port: lossy.port)
        #expect(stop.status == 0)
        #expect(stop.output.contains("was not started by make node"), "\(stop.output)")
        #expect(try Self.redisCLI(lossy.port, ["ping"]) == "PONG", "another Redis is left alone")
    }

    @Test func aNodeWithoutItsConfigurationOrBinaryIsRefusedBeforeRedisStarts() throws {
        let data = try CommandLineTests.temporaryFolder()
        let port = try freePort()
        defer {
            _ = try? Self.run(["redis-stop"], data: data, port: port)
            try? FileManager.default.removeItem(at: data)
        }
        let unknown = try Self.run(["node", "c", StellingProcess.binary], data: data, port: port)
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("there is no config/cluster-c.yaml: NODE is a or b"), "\(unknown.output)")
        let noBinary = try Self.run(["node", "a", data.appendingPathComponent("missing").path], data: data, port: port)
        #expect(noBinary.status == 1)
        #expect(noBinary.output.contains("no stelling binary at"), "\(noBinary.output)")
        #expect(try Self.redisCLI(port, ["ping"]) == "")
        let usage = try Self.run(["start"], data: data, port: port)
        #expect(usage.status == 1)
        #expect(usage.output.contains("usage: scripts/cluster.sh redis | node NAME BINARY | redis-stop"))
    }
}
