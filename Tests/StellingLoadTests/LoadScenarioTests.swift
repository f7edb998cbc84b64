import Foundation
import Testing
import StellingCore
@testable import StellingLoad
import StellingTesting

/// Every scenario once at 200 clients against a real server: the tool and the server agree on
/// the protocol, nothing is lost, tallies are exact, and the checks do fail when they should.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LoadScenarioTests {
    @Test func joinWelcomesEveryParticipantAndMeasuresTheServer() throws {
        let server = try LiveEvent.forLoad()
        let report = try LoadScenario.join.run(server.options())
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("welcomed") == 200)
        #expect(report.figure("failed") == 0)
        #expect(report.figure("held") == 200)
        let seconds = try #require(report.figure("join_all_s"))
        #expect(seconds > 0 && seconds < 10)
        #expect(report.figure("join_p99_ms")! >= report.figure("join_p50_ms")!)
        #expect(report.figure("server_rss_after_b") != nil)
        #expect(report.figure("tool_cpu_s")! > 0)
    }

    @Test func clientsGoRoundRobinOverEveryURLAndEachServersCPUIsReported() throws {
        let first = try LiveEvent.forLoad()
        let second = try LiveEvent.forLoad()
        var options = first.options()
        options.otherURLs = [second.url]
        options.otherServerPIDs = [getpid()]
        let report = try LoadScenario.join.run(options)
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("welcomed") == 200)
        #expect(report.figure("server1_cpu_percent") != nil)
        #expect(report.figure("server2_cpu_percent") != nil)
        #expect(ServerMetrics.read(first.url)?["stelling_messages_in_total"] == 100)
        #expect(ServerMetrics.read(second.url)?["stelling_messages_in_total"] == 100)
    }

    @Test func aSecondURLThatIsNotAnEndpointIsAClearError() {
        var options = LoadOptions(url: "ws://127.0.0.1:1/ws")
        options.otherURLs = ["http://127.0.0.1:2/"]
        options.progress = nil
        #expect { try LoadScenario.join.run(options) } throws: { error in
            (error as? LoadError)?.description.contains("http://127.0.0.1:2/") == true
        }
    }

    @Test func chatDeliversEveryMessageToEveryParticipant() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options()
        options.rate = 20
        options.duration = 2
        let report = try LoadScenario.chat.run(options)
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("chat_accepted") == 40)
        #expect(report.figure("deliveries_expected") == 8000.0)
        #expect(report.figure("deliveries") == 8000.0)
        #expect(report.figure("lost") == 0)
        let p50 = try #require(report.figure("latency_p50_ms"))
        let p99 = try #require(report.figure("latency_p99_ms"))
        #expect(p50 > 0 && p50 <= p99 && p99 <= report.figure("latency_max_ms")! && p99 < 2000)
    }

    @Test func votesAreAcknowledgedAndTheTallyEqualsTheAcks() throws {
        let server = try LiveEvent.forLoad()
        let report = try LoadScenario.votes.run(server.options())
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("votes_acked") == 200)
        #expect(report.checks.first { $0.name == "tally equals the acks" }?.detail
                == "s1: agree 66, disagree 67, pass 67, voters 200")
        #expect(report.figure("next_to_last_ack_s")! > 0)
        // Group commit: the burst's 200 votes and the `next` in far fewer transactions.
        #expect(report.figure("store_records") == 201)
        #expect(report.figure("store_transactions").map { $0 >= 1 && $0 < 201 } == true)
    }

    @Test func votesRunTwiceAddAStatementWhenTheListRunsOut() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options(clients: 30)
        for _ in 0..<3 {
            let report = try LoadScenario.votes.run(options)
            #expect(report.passed, "\(report.text())")
        }
        options.clients = 1
        let last = try LoadScenario.votes.run(options)
        #expect(last.checks.first { $0.name == "tally equals the acks" }?.detail.hasPrefix("s4:") == true)
    }

    @Test func aWholeEventIsRehearsedWithExactTallies() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options()
        options.duration = 5
        let report = try LoadScenario.event.run(options)
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("joined") == 200)
        #expect(report.figure("left")! > 0)
        #expect(report.figure("lost") == 0)
        #expect(report.figure("votes_acked")! > 5 * 150)
        #expect(report.checks.first { $0.name == "every tally equals its acks" }?.detail == "5 statements")
    }

    @Test func chatBeyondTheServersRateLimitFailsItsCheck() throws {
        let server = try LiveEvent.forLoad(limits: Limits(chatBurst: 1, chatPerSecond: 0.5, joinBurst: 100_000, joinBurstTotal: 100_000))
        var options = server.options(clients: 20)
        options.senders = 1
        options.rate = 10
        options.duration = 0.5
        let report = try LoadScenario.chat.run(options)
        #expect(!report.passed)
        #expect(report.checks.first { $0.name == "every chat message acknowledged" }?.passed == false)
        #expect(report.figure("chat_rejected")! >= 3)
        #expect(report.text().contains("rate_limited"))
    }

    @Test func joinsBeyondTheServersPerAddressLimitAreReportedAsFailures() throws {
        let server = try LiveEvent.forLoad(limits: Limits(joinBurst: 10, joinsPerSecond: 0.1))
        var options = server.options(clients: 30)
        options.hold = 0
        let report = try LoadScenario.join.run(options)
        #expect(!report.passed)
        #expect(report.figure("welcomed")! >= 10 && report.figure("welcomed")! < 30)
        #expect(report.checks.first { $0.name == "every participant welcomed" }?.detail.contains("rate_limited") == true)
    }

    @Test func aWrongModeratorKeyIsAClearError() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options(clients: 5)
        options.moderatorKey = "not-the-key"
        #expect { try LoadScenario.votes.run(options) } throws: { error in
            (error as? LoadError)?.description.contains("moderator could not join") == true
        }
    }

    @Test func noServerMeansEveryJoinFailsWithoutHanging() throws {
        var options = LoadOptions(url: "ws://127.0.0.1:1/ws")
        options.clients = 20
        options.timeout = 10
        options.progress = nil
        options.hold = 0
        let report = try LoadScenario.join.run(options)
        #expect(!report.passed)
        #expect(report.figure("failed") == 20)
    }

    @Test func aServerElsewhereIsRefusedUnlessAllowed() {
        #expect(throws: LoadError.self) { try LoadScenario.join.run(LoadOptions(url: "ws://192.0.2.1:8080/ws")) }
        #expect(throws: LoadError.self) { try LoadScenario.join.run(LoadOptions(url: "http://127.0.0.1/")) }
    }
}

/// The pieces of the engine without sockets.
struct LoadEngineTests {
    @Test func percentilesComeFromTheRightBucket() {
        var histogram = LatencyHistogram()
        for value in 1...1000 { histogram.record(microseconds: UInt64(value)) }
        #expect(histogram.count == 1000)
        #expect(histogram.percentile(0.5) >= 500 && histogram.percentile(0.5) <= 508)
        #expect(histogram.percentile(0.99) >= 990 && histogram.percentile(0.99) <= 1000)
        #expect(histogram.percentile(1) == 1000)
        #expect(histogram.maximum == 1000 && histogram.minimum == 1)
        histogram.record(nanoseconds: 5_000_000_000)
        #expect(histogram.maximum == 5_000_000)
        #expect(LatencyHistogram().percentile(0.99) == 0)
    }

    @Test(arguments: [UInt64(0), 127, 128, 129, 1000, 65_535, 1 << 30, 1 << 40])
    func aBucketHoldsItsValue(_ value: UInt64) {
        let index = LatencyHistogram.index(of: value)
        #expect(LatencyHistogram.upperEdge(of: index) >= value)
        #expect(index == 0 || LatencyHistogram.upperEdge(of: index - 1) < value)
    }

    @Test func eventsAreSplitAndRecognised() {
        let message = "{\"type\":\"ack\",\"ref\":\"v1234\"}\n\n{\"type\":\"chat\",\"message\":{\"id\":3,\"from\":{\"id\":\"p1\",\"name\":\"\\\"text\\\":\\\"ld 9\",\"role\":\"participant\"},\"text\":\"ld 42 7\",\"at\":\"x\"}}\r\n{\"type\":\"announcement\",\"text\":null}"
        var kinds: [ServerEvent.Kind] = []
        var stamp: Int?
        var ref: (UInt8, Int)?
        Array(message.utf8).withUnsafeBytes { bytes in
            forEachLine(bytes) { line in
                let event = ServerEvent(line)
                kinds.append(event.kind)
                if event.kind == .ack { ref = event.ref.map { ($0.kind, $0.number) } }
                if event.kind == .chat { stamp = event.offset(after: #""text":"ld "#).flatMap { ServerEvent.digits(event.bytes, from: $0).value } }
            }
        }
        #expect(kinds == [.ack, .chat, .announcement])
        #expect(ref?.0 == UInt8(ascii: "v") && ref?.1 == 1234)
        #expect(stamp == 42)
    }

    @Test func sourceAddressesParse() {
        #expect(LoadOptions.parseAddresses("127.0.0.1-127.0.0.3") == ["127.0.0.1", "127.0.0.2", "127.0.0.3"])
        #expect(LoadOptions.parseAddresses("127.0.0.5,127.0.0.9") == ["127.0.0.5", "127.0.0.9"])
        #expect(LoadOptions.parseAddresses("127.0.0.3-127.0.0.1") == nil)
        #expect(LoadOptions.parseAddresses("127.0.0-127.0.0.1") == nil)
    }

    @Test func theReportIsOneLineOfJSON() {
        var report = LoadReport(scenario: "chat", clients: 2)
        report.add("lost", "deliveries lost", 0)
        report.add("latency_p99_ms", "p99", 1.25, "ms")
        report.check("nothing \"lost\"", true, "2 of 2")
        let json = report.json()
        #expect(!json.contains("\n"))
        #expect(JSONValue.parse(Array(json.utf8)) != nil)
        #expect(json.contains("\"latency_p99_ms\":1.25") && json.contains("\"passed\":true"))
    }
}
