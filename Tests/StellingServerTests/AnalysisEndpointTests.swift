import Foundation
import StellingCore
import StellingLoad
import StellingStore
import Testing
import StellingLWS
@testable import StellingServer
import StellingTesting

/// `GET /analysis.json` (issue 15) on a real server, and `stelling analyse` on its database.
@Suite(.timeLimit(.minutes(2)), .serialized)
struct AnalysisEndpointTests {
    static let yaml = """
        title: Analyse
        groups: [Rijk, Gemeente]
        statements:
          - id: s1
            text: Iedereen eens
          - id: s2
            text: Rijk eens
          - id: s3
            text: Gemeente eens
        limits:
          vote_burst: 100
          votes_per_second: 100
          join_burst: 5000
          max_connections_per_address: 5000
        """

    @Test func theAnalysisNeedsTheKeyFindsTheCampsAndMatchesTheCommandLine() throws {
        let server = try StellingProcess(yaml: Self.yaml)
        try server.start()
        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = try server.join(pool, [("type", "join"), ("role", "moderator"), ("key", server.key)])
        var people: [(JoinedClient, Bool)] = []
        for index in 0..<12 {
            let rijk = index % 2 == 0
            people.append((try server.join(pool, [("type", "join"), ("name", "P\(index)"), ("group", rijk ? "Rijk" : "Gemeente")]), rijk))
        }
        for (statement, choice) in [("s1", { (_: Bool) in "agree" }), ("s2", { $0 ? "agree" : "disagree" }), ("s3", { $0 ? "disagree" : "agree" })] {
            moderator.client.send(#"{"type":"next","ref":"n"}"#)
            for (person, rijk) in people {
                _ = try person.client.expect("statement", skipping: ["presence", "tally", "chat", "results"])
                person.client.send(#"{"type":"vote","statement":"\#(statement)","choice":"\#(choice(rijk))","ref":"v"}"#)
                _ = try person.client.expect("ack", skipping: ["presence", "tally", "chat", "results"])
            }
        }

        #expect(try RawWebSocket.http(port: server.port, path: "/analysis.json").status == 401)
        #expect(try RawWebSocket.http(port: server.port, path: "/analysis.json", headers: ["Authorization": "Bearer wrong"]).status == 401)
        let key = try #require(server.key)
        let response = try RawWebSocket.http(port: server.port, path: "/analysis.json", headers: ["Authorization": "Bearer \(key)"])
        #expect(response.status == 200)
        guard case let .object(live)? = JSONValue.parse(response.body),
              case let .array(groups)? = live["opinion_groups"], case let .array(points)? = live["participants"] else {
            Issue.record("analysis.json is not the documented object"); return
        }
        #expect(groups.count == 2)
        #expect(points.count == 12)
        server.stop()

        let run = try CommandLineTests.run(["analyse", "--database", server.databasePath, "--json"])
        #expect(run.status == 0, "\(run.output)")
        guard case var .object(offline)? = JSONValue.parse(Array(run.output.utf8)) else {
            Issue.record("stelling analyse --json printed no JSON object: \(run.output)"); return
        }
        var liveWithoutTime = live
        liveWithoutTime["computed_at"] = nil
        offline["computed_at"] = nil
        #expect(offline == liveWithoutTime)
        let text = try CommandLineTests.run(["analyse", "--database", server.databasePath])
        #expect(text.status == 0)
        #expect(text.output.contains("Alle groepen eens over “Iedereen eens”."))
        let missing = try CommandLineTests.run(["analyse", "--database", server.folder.appendingPathComponent("none.sqlite").path])
        #expect(missing.status != 0 && missing.output.contains("no database"))
    }

    @Test func theBenchmarkAnalysesMadeUpVotesAndMistakesAreClear() throws {
        let bench = try CommandLineTests.run(["analyse", "--bench", "--participants", "300", "--statements", "8", "--runs", "1"])
        #expect(bench.status == 0, "\(bench.output)")
        #expect(bench.output.contains("analysis of 300 participants x 8 statements") && bench.output.contains("camps found: A "))
        let none = try CommandLineTests.run(["analyse"])
        #expect(none.status != 0 && none.output.contains("--database"))
        let language = try CommandLineTests.run(["analyse", "--database", "x.sqlite", "--language", "de"])
        #expect(language.status != 0 && language.output.contains("--language must be nl or en"))
    }

    @Test func anAnswerIsReusedWhileNothingNewIsDurableOrForFiveSeconds() {
        let cache = AnalysisResponseCache()
        let first = HTTPResponse.text("first"), second = HTTPResponse.text("second")
        let second0: UInt64 = 1_000_000_000_000
        #expect(cache.response(for: "/a.sqlite", at: 5, now: second0) == nil)
        cache.keep(first, for: "/a.sqlite", at: 5, now: second0)
        #expect(cache.response(for: "/a.sqlite", at: 5, now: second0 + 60_000_000_000) == first, "nothing new: reused however old")
        #expect(cache.response(for: "/a.sqlite", at: 6, now: second0 + 4_000_000_000) == first, "new records, but under 5 s old")
        #expect(cache.response(for: "/a.sqlite", at: 6, now: second0 + 5_000_000_000) == nil, "new records and 5 s old: analyse again")
        #expect(cache.response(for: "/b.sqlite", at: 5, now: second0) == nil, "another database")
        cache.keep(second, for: "/a.sqlite", at: 7, now: second0 + 6_000_000_000)
        cache.keep(first, for: "/a.sqlite", at: 6, now: second0 + 7_000_000_000)
        #expect(cache.response(for: "/a.sqlite", at: 7, now: second0 + 20_000_000_000) == second,
                "a slower, older answer does not replace a newer one")
    }
}
