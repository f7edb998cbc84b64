import Foundation
import StellingLoad
import StellingStore
import Testing
@testable import StellingLWS
import StellingTesting

/// A small real file system (tmpfs) the test mounts, fills and frees. Needs root (CI runs
/// `make test` as root, as the brief's machines do).
final class SmallDisk {
    let path: String
    private var filler: String { path + "/filler" }

    init(megabytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = SmallDisk.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard status == 0 else { throw TestFailure("mount -t tmpfs failed (\(status)): this test needs root") }
    }

    deinit {
        _ = SmallDisk.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a file until the file system is full; returns the bytes written.
    @discardableResult
    func fill() -> Int {
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if written <= 0 { break }
            total += written
        }
        return total
    }

    /// Frees what `fill` took.
    func free() { unlink(filler) }

    private static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The store cannot write (issue 11, §5): past a bound new requests get `unavailable` instead
/// of queueing; what was acknowledged is on disk; the event goes on when there is room again.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FullDiskTests {
    @Test func aFullDiskRefusesNewWorkPastTheBoundAndTheEventGoesOnWhenThereIsRoom() throws {
        let disk = try SmallDisk(megabytes: 2)
        let database = disk.path + "/event.sqlite"
        let process = try StellingProcess(yaml: """
            title: Vol
            database: \(database)
            limits:
              store_backlog_records: 20
              chat_burst: 100000
              chat_per_second: 100000
            """)
        try process.start()
        defer { process.stop() }
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let connection = pool.connect(url: process.url)
        #expect(connection.waitOpen(timeout: 5))
        let anna = TestClient(connection)
        anna.send(#"{"type":"join","name":"Anna"}"#)
        _ = try anna.expect("welcome")
        anna.send(#"{"type":"chat","text":"before x","ref":"before"}"#)
        #expect(try anna.expect("ack", skipping: ["presence", "tally", "chat"]).string("ref") == "before")

        disk.fill()
        // Fill whatever SQLite still had room for, then 100 more: past the bound they are refused.
        var acked: Set<String> = ["before"]
        var refused: Set<String> = []
        var sent: [String] = []
        func refName(_ round: Int, _ number: Int) -> String { "m\(round)-\(number)" }
        for round in 0..<40 {
            for number in 0..<25 {
                let ref = refName(round, number)
                sent.append(ref)
                anna.send(#"{"type":"chat","text":"\#(ref) \#(String(repeating: "x", count: 400))","ref":"\#(ref)"}"#)
            }
            // Read until this round's last request is answered: at once, unless it waits for the
            // disk with the backlog still below the bound (then the 2 s run out; once a run).
            let last = refName(round, 24)
            let deadline = Date().addingTimeInterval(2)
            while !acked.contains(last), !refused.contains(last),
                  let event = anna.next(timeout: max(0, deadline.timeIntervalSinceNow)) {
                Self.note(event, acked: &acked, refused: &refused)
            }
            if refused.count >= 50 { break }
        }
        #expect(refused.count >= 50, "no unavailable errors: \(acked.count) acked of \(sent.count)")
        let health = try RawWebSocket.http(port: process.port, path: "/healthz")
        #expect(health.status == 503)
        #expect(health.text.contains("store failing"))

        // Room again: the backlog is written and acknowledged, and new work is accepted.
        disk.free()
        let deadline = Date().addingTimeInterval(20)
        while acked.count + refused.count < sent.count + 1,
              let event = anna.next(timeout: max(0, deadline.timeIntervalSinceNow)) {
            Self.note(event, acked: &acked, refused: &refused)
        }
        #expect(acked.count + refused.count == sent.count + 1, "every request answered once")
        #expect(acked.isDisjoint(with: refused))
        anna.send(#"{"type":"chat","text":"after x","ref":"after"}"#)
        #expect(try anna.expect("ack", skipping: ["presence", "tally", "chat"]).string("ref") == "after")
        acked.insert("after")
        #expect(try RawWebSocket.http(port: process.port, path: "/healthz").status == 200)

        // Everything acknowledged is on disk.
        process.stop()
        let chat = String(decoding: try #require(try Exporter(databasePath: database).file(named: "chat.csv")), as: UTF8.self)
        for ref in acked { #expect(chat.contains(ref + " "), "\(ref) was acknowledged but is not stored") }
        for ref in refused { #expect(!chat.contains(ref + " "), "\(ref) was refused but is stored") }
    }

    static func note(_ event: JSONObject, acked: inout Set<String>, refused: inout Set<String>) {
        guard let ref = event.string("ref") else { return }
        if event.string("type") == "ack" { acked.insert(ref) }
        if event.string("type") == "error" {
            if event.string("code") == "unavailable" { refused.insert(ref) } else { Issue.record("unexpected error \(event)") }
        }
    }
}
