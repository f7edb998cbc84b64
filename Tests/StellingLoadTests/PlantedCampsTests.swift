import Foundation
import StellingCore
import StellingStore
import Testing
@testable import StellingLoad
import StellingTesting

/// `stelling load event --camps N`: votes with planted camps for the opinion analysis (issue 15).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PlantedCampsTests {
    @Test func withoutCampsTheChoicesRotate() {
        #expect((0..<6).map { EventScenario.choice(client: $0, round: 1, camps: 0) } == [1, 2, 0, 1, 2, 0])
    }

    @Test func everyCampAgreesOnTheFirstStatementAndFollowsItsLeaningMostOfTheTime() {
        let clients = 0..<3000
        let first = clients.filter { EventScenario.choice(client: $0, round: 0, camps: 3) == 0 }.count
        #expect(first >= 2600, "\(first) of 3000 agree on the first statement")
        for camp in 0..<3 {
            for round in 1...4 {
                let members = clients.filter { $0 % 3 == camp }
                let leaning = EventScenario.leanings[camp][round - 1]
                let following = members.filter { EventScenario.choice(client: $0, round: round, camps: 3) == leaning }.count
                #expect(following * 10 >= members.count * 8, "camp \(camp) round \(round): \(following) of \(members.count)")
            }
        }
    }

    @Test func campsOutsideZeroToFiveAreAClearError() {
        var options = LoadOptions(url: "ws://127.0.0.1:1/ws")
        options.moderatorKey = "k"
        options.camps = 6
        #expect(throws: LoadError.self) { try options.validate(for: .event) }
    }

    /// The swarm gives client c the group c mod 3, and with `--camps 3` the camp c mod 3: so each of
    /// the three largest camps the analysis finds must be mostly one configured group, a different
    /// one each. (Late joiners and leavers miss statements, so smaller extra camps may appear.)
    @Test func anEventWithThreePlantedCampsIsAnalysedIntoCampsThatFollowThePlant() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options()
        options.duration = 5
        options.camps = 3
        let report = try LoadScenario.event.run(options)
        #expect(report.passed, "\(report.text())")
        let analysis = try Exporter(databasePath: server.store.path).analysisJSON()
        guard case let .object(root)? = JSONValue.parse(analysis), case let .array(camps)? = root["opinion_groups"],
              case let .array(participants)? = root["participants"], case let .array(statements)? = root["statements"] else {
            Issue.record("no analysis"); return
        }
        #expect(participants.count >= 150)
        #expect(camps.count >= 3)
        var dominant: Set<String> = []
        for case let .object(camp) in camps.prefix(3) {
            guard case let .integer(size)? = camp["size"], case let .object(byGroup)? = camp["by_group"] else {
                Issue.record("a camp without size or by_group"); continue
            }
            let counts = byGroup.compactMap { name, value -> (String, Int64)? in
                guard case let .object(share) = value, case let .integer(count)? = share["count"] else { return nil }
                return (name, count)
            }
            let top = try #require(counts.max { $0.1 < $1.1 })
            #expect(top.1 * 10 >= size * 7, "camp \(camp["id"].debugDescription): \(top.1) of \(size) from \(top.0)")
            dominant.insert(top.0)
        }
        #expect(dominant.count == 3, "each large camp is another group: \(dominant)")
        guard case let .object(first)? = statements.first, case let .integer(agree)? = first["agree"],
              case let .integer(voters)? = first["voters"] else { Issue.record("no first statement"); return }
        #expect(agree * 10 >= voters * 8, "everyone leans agree on the first statement: \(agree) of \(voters)")
    }
}
