import Foundation
import StellingCore
import StellingLWS
import StellingTesting
import Testing

/// Issue 16: several `stelling serve` nodes on one real Redis (started on loopback by the test)
/// serve one event: the same state everywhere, every acked request kept through `kill -9` of a
/// node or of Redis, answers withheld while Redis is away.
@Suite(.timeLimit(.minutes(5)), .serialized)
struct ClusterTests {
    static let key = "cluster-test-moderator-key"

    static func yaml(redis: String, node: String, event: String = "test-event", statements: String = "Een", reusePort: Bool = false) -> String {
        """
        title: Cluster
        groups: [Rijk, Gemeente]
        statements:
          - id: s1
            text: \(statements)
          - id: s2
            text: Twee
        limits:
          chat_burst: 100
          chat_per_second: 100
          vote_burst: 5
          votes_per_second: 1
          join_burst: 5000
          join_burst_total: 5000
          max_connections_per_address: 5000
        cluster:
          redis: \(redis)
          event: \(event)
          node: \(node)
          reuse_port: \(reusePort)
        """
    }

    /// Redis, nodes named `names`, a client pool, and a moderator on the first node who has shown s1.
    struct Event {
        let redis: RedisServer
        let nodes: [StellingProcess]
        let pool: WebSocketClientPool
        let moderator: JoinedClient

        init(_ names: [String]) throws {
            redis = try RedisServer()
            nodes = try ClusterTests.nodes(names, redis: redis)
            pool = try WebSocketClientPool()
            moderator = try nodes[0].join(pool, [("type", "join"), ("role", "moderator"), ("key", ClusterTests.key), ("name", "M")])
            moderator.client.send(#"{"type":"next","ref":"n"}"#)
            _ = try moderator.client.untilAnswer("n")
        }

        /// The closing tally of s1, as the moderator gets it after `close`.
        func closingTally() throws -> [Int] {
            moderator.client.send(#"{"type":"close","ref":"c"}"#)
            _ = try moderator.client.untilAnswer("c", timeout: 15)
            return ClusterTests.counts(try ClusterTests.until(moderator.client, "tally", timeout: 15) { _ in true })
        }
    }

    static func nodes(_ names: [String], redis: RedisServer) throws -> [StellingProcess] {
        try names.map { name in
            let node = try StellingProcess(yaml: yaml(redis: redis.url, node: name), key: key)
            try node.start()
            return node
        }
    }

    /// Reads events until one of `type` satisfies `matching` (bounded by `timeout`).
    static func until(_ client: TestClient, _ type: String, timeout: Double = 10, _ matching: (JSONObject) -> Bool) throws -> JSONObject {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let event = client.next(timeout: max(0.05, deadline.timeIntervalSinceNow)) else { break }
            if event.string("type") == type, matching(event) { return event }
        }
        throw TestFailure("no \(type) as expected within \(timeout) s")
    }

    static func counts(_ tally: JSONObject) -> [Int] {
        ["agree", "disagree", "pass"].map { tally.int($0) ?? -1 }
    }

    static func export(_ node: StellingProcess, _ name: String) throws -> [UInt8] {
        let result = try RawWebSocket.http(port: node.port, path: "/export/\(name)", headers: ["Authorization": "Bearer \(key)"])
        guard result.status == 200 else { throw TestFailure("export \(name) from \(node.port): \(result.status) \(result.text)") }
        return result.body
    }

    @Test func threeNodesServeOneEventWithTheSameTalliesChatPresenceAndLimits() throws {
        let redis = try RedisServer()
        let nodes = try Self.nodes(["a", "b", "c"], redis: redis)
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try nodes[0].join(pool, [("type", "join"), ("role", "moderator"), ("key", Self.key), ("name", "M")])
        var participants: [JoinedClient] = []
        for index in 0..<9 {
            participants.append(try nodes[index % 3].join(pool, [("type", "join"), ("name", "P\(index)"), ("group", index % 2 == 0 ? "Rijk" : "Gemeente")]))
        }
        // Presence counts the participants of all nodes, on every node.
        for joined in participants { _ = try Self.until(joined.client, "presence") { $0.int("present") == 9 } }
        for node in nodes {
            let metrics = try RawWebSocket.http(port: node.port, path: "/metrics").text
            #expect(metrics.contains("stelling_cluster_nodes 3"))
            #expect(metrics.contains("stelling_cluster_redis_up 1"))
        }

        moderator.client.send(#"{"type":"next","ref":"n"}"#)
        _ = try moderator.client.untilAnswer("n")
        for (index, joined) in participants.enumerated() {
            _ = try Self.until(joined.client, "statement") { $0.object("current")?.string("voting") == "open" }
            joined.client.send(#"{"type":"vote","statement":"s1","choice":"\#(["agree", "disagree", "pass"][index % 3])","ref":"v"}"#)
            #expect(try joined.client.untilAnswer("v").answer.string("type") == "ack")
        }
        moderator.client.send(#"{"type":"reveal","ref":"r"}"#)
        _ = try moderator.client.untilAnswer("r")
        // Everyone, on every node, sees the same tally of all nodes' votes.
        for joined in participants {
            _ = try Self.until(joined.client, "tally") { Self.counts($0) == [3, 3, 3] }
        }

        // Chat from two nodes reaches every client in one order.
        participants[1].client.send(#"{"type":"chat","text":"van b","ref":"c1"}"#)
        participants[2].client.send(#"{"type":"chat","text":"van c","ref":"c2"}"#)
        var orders: [[String]] = []
        for joined in participants + [moderator] {
            var texts: [String] = []
            while texts.count < 2 {
                let chat = try Self.until(joined.client, "chat") { _ in true }
                texts.append(chat.object("message")?.string("text") ?? "")
            }
            orders.append(texts)
        }
        #expect(Set(orders.map { $0.joined(separator: "|") }).count == 1)

        // One participant, two tabs on two nodes: one vote bucket (vote_burst 5, 1 a second).
        let tab = try nodes[2].join(pool, [("type", "join"), ("resume", participants[0].resume)])
        var limited = 0
        for index in 0..<8 {
            let client = index.isMultiple(of: 2) ? participants[0].client : tab.client
            client.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"b\#(index)"}"#)
            if try client.untilAnswer("b\(index)").answer.string("code") == "rate_limited" { limited += 1 }
        }
        // Five tokens (one of them spent above) and at most one more refilled in the run.
        #expect(limited >= 3 && limited <= 4)

        // The exports are the same from every node once the copies have caught up.
        let deadline = Date().addingTimeInterval(10)
        var exports: [[UInt8]] = []
        repeat {
            exports = try nodes.map { try Self.export($0, "votes.csv") }
        } while Set(exports).count != 1 && deadline.timeIntervalSinceNow > 0 && { usleep(100_000); return true }()
        #expect(Set(exports).count == 1)
        #expect(String(decoding: exports[0], as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 10)
    }

    @Test func killingANodeInAVoteBurstLosesNoAckedVoteAndItsClientsResumeElsewhere() throws {
        let event = try Event(["a", "b"])
        let (nodes, pool) = (event.nodes, event.pool)
        defer { pool.shutdown(timeout: 5) }
        let count = 40
        var doomed: [JoinedClient] = []
        for index in 0..<count {
            doomed.append(try nodes[1].join(pool, [("type", "join"), ("name", "P\(index)"), ("group", "Rijk")]))
        }
        // Every participant on node b votes at once; node b dies in the middle of it.
        for joined in doomed { joined.client.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"v"}"#) }
        usleep(20_000)
        nodes[1].stop(signal: SIGKILL)
        var acked: Set<String> = []
        for joined in doomed where joined.client.drain(window: 0.2).contains(where: { $0.string("type") == "ack" && $0.string("ref") == "v" }) {
            acked.insert(joined.id)
        }
        // Half of them resume on node a with their tokens: whoever got an ack finds the vote there.
        for joined in doomed.prefix(count / 2) {
            let connection = pool.connect(url: nodes[0].url)
            guard connection.waitOpen(timeout: 5) else { throw TestFailure("no connection") }
            let client = TestClient(connection)
            client.send(object: [("type", "join"), ("resume", joined.resume)])
            let welcome = try client.expect("welcome", timeout: 10)
            #expect(welcome.object("you")?.string("id") == joined.id)
            let voted = welcome.object("session")?.object("myVotes")?.string("s1") == "agree"
            if acked.contains(joined.id) { #expect(voted) }
        }
        let kept = try event.closingTally()[0]
        #expect(kept >= acked.count)
        #expect(kept <= count)
        // Node b's sessions end everywhere once node a sees it stopped: presence counts only
        // those who came back.
        _ = try Self.until(event.moderator.client, "presence", timeout: 15) { $0.int("present") == count / 2 }
    }

    @Test func killingRedisInAVoteBurstAndRestartingItLosesNothingAckedAndAnswersTheRest() throws {
        let event = try Event(["a", "b"])
        let (redis, nodes, pool) = (event.redis, event.nodes, event.pool)
        defer { pool.shutdown(timeout: 5) }
        var voters: [JoinedClient] = []
        for index in 0..<40 {
            voters.append(try nodes[index % 2].join(pool, [("type", "join"), ("name", "P\(index)"), ("group", "Rijk")]))
        }
        // Every voter votes at once; Redis is killed in the middle of the burst.
        for voter in voters { voter.client.send(#"{"type":"vote","statement":"s1","choice":"disagree","ref":"v"}"#) }
        usleep(5_000)
        redis.kill()
        var acked: Set<String> = []
        for voter in voters where voter.client.drain(window: 0.05).contains(where: { $0.string("ref") == "v" && $0.string("type") == "ack" }) {
            acked.insert(voter.id)
        }
        try redis.restart()
        // The nodes kept what was not in Redis yet and send it again: every vote is answered, once.
        for voter in voters where !acked.contains(voter.id) {
            if (try? voter.client.untilAnswer("v", timeout: 20))?.answer.string("type") == "ack" { acked.insert(voter.id) }
        }
        #expect(acked.count == voters.count)
        // A new vote after the restart is acked too, and the tally holds every vote exactly once.
        let late = try Self.joinRetrying(pool, nodes[1], [("type", "join"), ("name", "Laat"), ("group", "Gemeente")])
        late.client.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"v"}"#)
        #expect(try late.client.untilAnswer("v", timeout: 15).answer.string("type") == "ack")
        #expect(try event.closingTally() == [1, 40, 0])
        for node in nodes {
            let health = try RawWebSocket.http(port: node.port, path: "/healthz")
            #expect(health.status == 200)
        }
    }

    @Test func whileRedisIsAwayAnswersWaitAndHealthSaysSoThenEverythingFlows() throws {
        let event = try Event(["a", "b"])
        let (redis, nodes, pool) = (event.redis, event.nodes, event.pool)
        defer { pool.shutdown(timeout: 5) }
        let anna = try nodes[1].join(pool, [("type", "join"), ("name", "Anna"), ("group", "Rijk")])
        redis.pause()
        let paused = Date()
        anna.client.send(#"{"type":"vote","statement":"s1","choice":"pass","ref":"v"}"#)
        // /healthz says 503 with the reason within a few seconds, on both nodes.
        for node in nodes {
            var health = try RawWebSocket.http(port: node.port, path: "/healthz")
            let deadline = Date().addingTimeInterval(9)
            while health.status == 200, deadline.timeIntervalSinceNow > 0 {
                usleep(200_000)
                health = try RawWebSocket.http(port: node.port, path: "/healthz")
            }
            #expect(health.status == 503)
            #expect(health.text.contains("redis unreachable"))
        }
        // No answer while Redis is away (10 s in all).
        let before = anna.client.drain(window: max(0.1, 10 - Date().timeIntervalSince(paused)))
        #expect(!before.contains { $0.string("ref") == "v" })
        redis.resume()
        #expect(try anna.client.untilAnswer("v", timeout: 20).answer.string("type") == "ack")
        #expect(try event.closingTally() == [0, 0, 1])
        let deadline = Date().addingTimeInterval(10)
        var statuses: [Int] = []
        repeat {
            statuses = try nodes.map { try RawWebSocket.http(port: $0.port, path: "/healthz").status }
        } while statuses != [200, 200] && deadline.timeIntervalSinceNow > 0 && { usleep(200_000); return true }()
        #expect(statuses == [200, 200])
    }

    @Test func twoNodesShareOnePortAndWhenOneDiesItsClientsResumeOnTheOtherThroughThatPort() throws {
        let redis = try RedisServer()
        let a = try StellingProcess(yaml: Self.yaml(redis: redis.url, node: "a", reusePort: true), key: Self.key)
        let b = try StellingProcess(yaml: Self.yaml(redis: redis.url, node: "b", reusePort: true), key: Self.key)
        // Node b listens on node a's port: without reuse_port it could not start.
        let config = try String(contentsOf: b.config, encoding: .utf8)
        try config.replacingOccurrences(of: "port: \(b.port)\n", with: "port: \(a.port)\n").write(to: b.config, atomically: true, encoding: .utf8)
        try a.start()
        try b.start()
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        var joined: [JoinedClient] = []
        for index in 0..<20 {
            joined.append(try a.join(pool, [("type", "join"), ("name", "P\(index)"), ("group", "Rijk")]))
        }
        a.stop(signal: SIGKILL)
        usleep(500_000)
        var lost: [JoinedClient] = []
        for client in joined where client.client.closeCode(timeout: 0.05) != nil { lost.append(client) }
        // The kernel spread the connections over both nodes.
        #expect(!lost.isEmpty && lost.count < joined.count)
        for client in lost {
            let again = try a.join(pool, [("type", "join"), ("resume", client.resume)])
            #expect(again.id == client.id)
        }
    }

    @Test func aNodeWithOtherStatementsOrALossyRedisRefusesToStartSayingWhy() throws {
        let redis = try RedisServer()
        let first = try Self.nodes(["a"], redis: redis)
        _ = first
        let other = try StellingProcess(yaml: Self.yaml(redis: redis.url, node: "b", statements: "Iets anders"), key: Self.key)
        #expect(throws: TestFailure.self) { try other.start(timeout: 10) }
        #expect(other.output.contains("statements.s1"))

        let lossy = try RedisServer(appendfsync: "everysec")
        let node = try StellingProcess(yaml: Self.yaml(redis: lossy.url, node: "a"), key: Self.key)
        #expect(throws: TestFailure.self) { try node.start(timeout: 10) }
        #expect(node.output.contains("appendfsync"))
    }
}

extension ClusterTests {
    /// Joins, trying again for a while when the node cannot take it yet (Redis restarting).
    static func joinRetrying(_ pool: WebSocketClientPool, _ node: StellingProcess, _ fields: [(String, String?)]) throws -> JoinedClient {
        let deadline = Date().addingTimeInterval(20)
        while true {
            do {
                return try node.join(pool, fields)
            } catch where deadline.timeIntervalSinceNow > 0 {
                usleep(200_000)
            }
        }
    }
}
