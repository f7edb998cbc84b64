import Foundation
import StellingCore
import StellingLoad
import StellingStore
import Testing
import StellingLWS
import StellingTesting

/// PROTOCOL.md: "an acknowledged vote or message is never lost, not even by kill -9", and
/// "after a restart the event continues exactly where it stood".
@Suite(.timeLimit(.minutes(3)), .serialized)
struct DurabilityTests {
    static let yaml = """
        title: Durability
        groups: [Rijk, Gemeente]
        statements:
          - id: s1
            text: Een
          - id: s2
            text: Twee
        limits:
          chat_burst: 100
          chat_per_second: 100
          vote_burst: 100
          votes_per_second: 100
          join_burst: 5000
          join_burst_total: 5000
          max_connections_per_address: 5000
        """

    static func rows(_ csv: [UInt8]) -> [[String]] {
        var text = String(decoding: csv, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.dropFirst().map { $0.components(separatedBy: ",") }
    }

    @Test func killNineLosesNothingThatWasAcknowledged() throws {
        let server = try StellingProcess(yaml: Self.yaml)
        try server.start()
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try server.join(pool, [("type", "join"), ("role", "moderator"), ("key", server.key), ("name", "M")])
        moderator.client.send(#"{"type":"next","ref":"n"}"#)
        _ = try moderator.client.expect("ack", skipping: ["presence", "tally", "statement"])

        let count = 60
        var participants: [JoinedClient] = []
        for index in 0..<count {
            participants.append(try server.join(pool, [("type", "join"), ("name", "P\(index)"), ("group", index % 2 == 0 ? "Rijk" : "Gemeente")]))
        }
        // Traffic: every participant votes and chats with refs, round after round, until the
        // server dies under it (kill -9 mid-burst).
        let choices = ["agree", "disagree", "pass"]
        let rounds = RoundCounter()
        let clients = participants.map(\.client)
        let sender = Thread {
            for round in 0..<400 {
                var sent = true
                for (index, client) in clients.enumerated() {
                    sent = client.connection.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"\(choices[(index + round) % 3])\",\"ref\":\"v\(round)\"}") && sent
                    sent = client.connection.send("{\"type\":\"chat\",\"text\":\"m-\(index)-\(round)\",\"ref\":\"c\(round)\"}") && sent
                }
                rounds.set(round)
                if !sent { break }
                usleep(5_000)
            }
            rounds.finish()
        }
        sender.start()
        // Kill once acknowledgements flow (on a busy machine the first may take a while).
        var early: [JSONObject] = []
        while let event = participants[count - 1].client.next(timeout: 10) {
            early.append(event)
            if event.string("type") == "ack" { break }
        }
        // Kill mid-burst: once the sender has gone ten more rounds (a condition, not a fixed wait).
        let flowing = rounds.current
        #expect(eventually(timeout: 10) { rounds.current >= flowing + 10 || rounds.isFinished })
        #expect(server.stop(signal: SIGKILL) == SIGKILL)
        let lastRound = rounds.waitUntilFinished()

        // Collect every ack that arrived before the connection dropped.
        var ackedVotes: [String: String] = [:]   // participant id -> choice of the last acknowledged vote
        var lastVoteAcked: Set<String> = []       // participants whose very last vote was acknowledged
        var ackedChats: [String] = []
        var acks = 0
        for (index, participant) in participants.enumerated() {
            var events: [JSONObject] = index == count - 1 ? early : []
            // Until the connection's end (the server is gone), not a quiet window; 5 s at the most.
            while let event = participant.client.next(timeout: 5) { events.append(event) }
            for event in events {
                guard event.string("type") == "ack", let ref = event.string("ref") else { continue }
                acks += 1
                if ref.hasPrefix("v"), let round = Int(ref.dropFirst()) {
                    ackedVotes[participant.id] = choices[(index + round) % 3]
                    if round == lastRound { lastVoteAcked.insert(participant.id) }
                } else if ref.hasPrefix("c"), let round = Int(ref.dropFirst()) {
                    ackedChats.append("m-\(index)-\(round)")
                }
            }
        }
        #expect(acks > 0, "the server died before acknowledging anything; the test proves nothing")
        print("kill -9 test: \(acks) of about \(count * 2 * (lastRound + 1)) requests acknowledged before the kill")

        // Restart on the same database.
        try server.start()
        defer { server.stop() }
        let exporter = try Exporter(databasePath: server.databasePath)
        let votes = Self.rows(exporter.votesCSV())
        let finalChoice = Dictionary(votes.map { ($0[1], $0[3]) }, uniquingKeysWith: { $1 })
        for (participant, choice) in ackedVotes {
            #expect(finalChoice[participant] != nil, "acknowledged vote of \(participant) lost")
            // Nothing was sent after a participant's last vote: when it was acknowledged, it is the final choice.
            if lastVoteAcked.contains(participant) { #expect(finalChoice[participant] == choice) }
        }
        let chatTexts = Set(Self.rows(exporter.chatCSV()).map { $0[6] })
        for text in ackedChats { #expect(chatTexts.contains(text), "acknowledged message \(text) lost") }

        // The rebuilt tally equals the stored votes.
        let moderatorAgain = try server.join(pool, [("type", "join"), ("role", "moderator"), ("key", server.key)])
        moderatorAgain.client.send(#"{"type":"close"}"#)
        let tally = try moderatorAgain.client.expect("tally", skipping: ["presence", "statement"])
        #expect(tally.int("voters") == votes.filter { $0[0] == "s1" }.count)
        #expect(tally.int("voters").map { $0 >= ackedVotes.count } == true)
    }

    @Test func aRestartContinuesTheEventAndResumeTokensStillWork() throws {
        let server = try StellingProcess(yaml: Self.yaml)
        try server.start()
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try server.join(pool, [("type", "join"), ("role", "moderator"), ("key", server.key)])
        let anna = try server.join(pool, [("type", "join"), ("name", "Anna"), ("group", "Rijk")])
        moderator.client.send(#"{"type":"next"}"#)
        _ = try anna.client.expect("statement")
        anna.client.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"v"}"#)
        _ = try anna.client.expect("ack")
        anna.client.send(#"{"type":"chat","text":"Hallo","ref":"c"}"#)
        _ = try anna.client.expect("ack", skipping: ["presence", "tally", "chat"])
        moderator.client.send(#"{"type":"reveal","ref":"r"}"#)
        moderator.client.send(object: [("type", "mute"), ("participant", anna.id), ("ref", "m")])
        moderator.client.send(#"{"type":"announce","text":"Pauze","ref":"a"}"#)
        moderator.client.send(#"{"type":"add","text":"Live toegevoegd","ref":"add"}"#)
        var acked = Set<String>()
        while acked.count < 4, let event = moderator.client.next(timeout: 5) {
            if event.string("type") == "ack", let ref = event.string("ref") { acked.insert(ref) }
        }
        #expect(acked == ["r", "m", "a", "add"])
        #expect(server.stop(signal: SIGKILL) == SIGKILL)

        try server.start()
        defer { server.stop() }
        let connection = pool.connect(url: server.url)
        #expect(connection.waitOpen(timeout: 5))
        let resumed = TestClient(connection)
        resumed.send(object: [("type", "join"), ("resume", anna.resume)])
        let welcome = try resumed.expect("welcome")
        #expect(welcome.object("you")?.string("id") == anna.id)
        #expect(welcome.object("you")?.string("group") == "Rijk")
        let session = try #require(welcome.object("session"))
        #expect(session.object("myVotes") == ["s1": .string("agree")])
        #expect(session.object("current") == ["statement": .string("s1"), "voting": .string("open"), "results": .string("visible")])
        #expect(session.object("tally")?.int("agree") == 1)
        #expect(session.string("announcement") == "Pauze")
        #expect(session.array("statements")?.count == 3)
        #expect(session.array("chat")?.count == 1)
        resumed.send(#"{"type":"chat","text":"nog steeds gemute"}"#)
        #expect(try resumed.expectError().code == "muted")
    }

    @Test func httpExportsEqualTheCommandLineExportsAndNeedTheKey() throws {
        let server = try StellingProcess(yaml: Self.yaml)
        try server.start()
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try server.join(pool, [("type", "join"), ("role", "moderator"), ("key", server.key)])
        let anna = try server.join(pool, [("type", "join"), ("name", "=Anna"), ("group", "Rijk")])
        moderator.client.send(#"{"type":"next"}"#)
        _ = try anna.client.expect("statement")
        anna.client.send(#"{"type":"vote","statement":"s1","choice":"pass","ref":"v"}"#)
        _ = try anna.client.expect("ack")
        anna.client.send(#"{"type":"chat","text":"=HYPERLINK(\"x\"), \"quoted\"","ref":"c"}"#)
        _ = try anna.client.expect("ack", skipping: ["presence", "tally", "chat"])

        #expect(try RawWebSocket.http(port: server.port, path: "/export/votes.csv").status == 401)
        #expect(try RawWebSocket.http(port: server.port, path: "/export/votes.csv", headers: ["Authorization": "Bearer wrong"]).status == 401)
        let key = try #require(server.key)
        #expect(try RawWebSocket.http(port: server.port, path: "/export/secrets.txt", headers: ["Authorization": "Bearer \(key)"]).status == 404)
        var overHTTP: [String: [UInt8]] = [:]
        for name in Exporter.fileNames {
            let response = try RawWebSocket.http(port: server.port, path: "/export/\(name)", headers: ["Authorization": "Bearer \(key)"])
            #expect(response.status == 200)
            overHTTP[name] = response.body
        }
        // Names only when asked for (PROTOCOL.md, names): `?names=1` over HTTP, `--with-names` offline.
        #expect(!String(decoding: overHTTP["chat.csv"] ?? [], as: UTF8.self).contains("Anna"))
        let named = try RawWebSocket.http(port: server.port, path: "/export/chat.csv?names=1", headers: ["Authorization": "Bearer \(key)"])
        #expect(named.status == 200)
        #expect(String(decoding: named.body, as: UTF8.self).contains(",'=Anna,participant,"))
        let namedSession = try RawWebSocket.http(port: server.port, path: "/export/session.json?names=1", headers: ["Authorization": "Bearer \(key)"])
        #expect(String(decoding: namedSession.body, as: UTF8.self).contains("\"names\":true"))
        #expect(String(decoding: overHTTP["session.json"] ?? [], as: UTF8.self).contains("\"names\":false"))
        server.stop()
        let withNames = server.folder.appendingPathComponent("named")
        let namedRun = try CommandLineTests.run(["export", "--database", server.databasePath, "--out", withNames.path, "--with-names"])
        #expect(namedRun.status == 0, "\(namedRun.output)")
        #expect(Array(try Data(contentsOf: withNames.appendingPathComponent("chat.csv"))) == named.body)
        let out = server.folder.appendingPathComponent("exports")
        let run = try CommandLineTests.run(["export", "--database", server.databasePath, "--out", out.path])
        #expect(run.status == 0, "\(run.output)")
        for name in Exporter.fileNames where name != "session.json" && name != "report.html" {
            let file = try Data(contentsOf: out.appendingPathComponent(name))
            #expect(Array(file) == overHTTP[name], "\(name) differs")
        }
        // session.json and the report carry the export time; everything else is the same.
        let chat = String(decoding: overHTTP["chat.csv"] ?? [], as: UTF8.self)
        #expect(chat.contains("\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\""))
        #expect(String(decoding: overHTTP["votes.csv"] ?? [], as: UTF8.self).contains(",Rijk,pass,"))
    }
}

/// The last round the sender thread sent, shared with the test thread.
final class RoundCounter: @unchecked Sendable {
    private let condition = NSCondition()
    private var round = -1
    private var finished = false

    func set(_ value: Int) { condition.withLock { round = value } }
    /// The last round sent.
    var current: Int { condition.withLock { round } }
    /// Whether the sender has stopped.
    var isFinished: Bool { condition.withLock { finished } }
    func finish() { condition.withLock { finished = true; condition.broadcast() } }

    func waitUntilFinished(timeout: Double = 20) -> Int {
        condition.withLock {
            let deadline = Date().addingTimeInterval(timeout)
            while !finished, condition.wait(until: deadline) {}
            return round
        }
    }
}
