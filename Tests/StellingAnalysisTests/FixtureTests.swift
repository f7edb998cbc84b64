import Foundation
import StellingCore
import Testing
@testable import StellingAnalysis

/// A fixture made by Fixtures/generate.py with numpy and scikit-learn.
struct Fixture: Decodable {
    struct Statement: Decodable { var id: String; var text: String }
    struct Participant: Decodable { var id: String; var group: String?; var votes: [String?] }
    struct ExpectedStatement: Decodable {
        var id: String
        var agree: Int, disagree: Int, pass: Int, voters: Int
        var divisiveness: Double?
        var group_consensus: Double?
        var configured_group_consensus: Double?
    }
    struct Share: Decodable { var count: Int; var share: Double? }
    struct Representative: Decodable { var statement: String; var direction: String; var repness: Double; var z: Double; var share: Double }
    struct Group: Decodable { var id: String; var size: Int; var by_group: [String: Share]; var representative: [Representative] }
    struct Expected: Decodable {
        var analysed: [String]
        var minimum_votes: Int
        var x: [Double], y: [Double]
        var explained_variance: [Double]
        var labels: [Int]?
        var silhouette: Double?
        var statements: [ExpectedStatement]
        var opinion_groups: [Group]
    }
    var name: String
    var statements: [Statement]
    var configured_groups: [String]
    var participants: [Participant]
    var expected: Expected

    static let names = ["planted-three-camps", "planted-two-camps", "planted-four-camps", "too-few-for-camps"]

    static func load(_ name: String) throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name + ".json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    var input: AnalysisInput {
        get throws {
            var input = AnalysisInput(statements: statements.map { .init(id: $0.id, text: $0.text) },
                                      configuredGroups: configured_groups)
            for participant in participants {
                try input.add(.init(id: participant.id, group: participant.group,
                                    votes: participant.votes.map { $0.flatMap(Choice.init(rawValue:)) }))
            }
            return input
        }
    }
}

/// The adjusted Rand index of two partitions (Hubert and Arabie 1985): 1 for the same partition
/// whatever the labels are called, about 0 for unrelated ones.
func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
    precondition(a.count == b.count)
    let pairs = { (n: Int) in Double(n * (n - 1) / 2) }
    var table: [Int: [Int: Int]] = [:]
    var rows: [Int: Int] = [:], columns: [Int: Int] = [:]
    for (x, y) in zip(a, b) {
        table[x, default: [:]][y, default: 0] += 1
        rows[x, default: 0] += 1
        columns[y, default: 0] += 1
    }
    let index = table.values.flatMap(\.values).reduce(0) { $0 + pairs($1) }
    let rowSum = rows.values.reduce(0) { $0 + pairs($1) }, columnSum = columns.values.reduce(0) { $0 + pairs($1) }
    let expected = rowSum * columnSum / pairs(a.count)
    let maximum = (rowSum + columnSum) / 2
    return maximum == expected ? 1 : (index - expected) / (maximum - expected)
}

func close(_ a: Double?, _ b: Double?, within tolerance: Double = 1e-9) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case let (a?, b?): abs(a - b) <= tolerance
    default: false
    }
}

@Suite("Analysis against numpy and scikit-learn")
struct FixtureTests {
    @Test(arguments: Fixture.names)
    func theOpinionMapIsNumpysPrincipalComponentProjection(name: String) throws {
        let fixture = try Fixture.load(name)
        let analysis = try Analysis(fixture.input)
        #expect(analysis.participants.map(\.id) == fixture.expected.analysed)
        #expect(analysis.minimumVotes == fixture.expected.minimum_votes)
        for (point, (x, y)) in zip(analysis.participants, zip(fixture.expected.x, fixture.expected.y)) {
            #expect(close(point.x, x), "x of \(point.id): \(point.x) against \(x)")
            #expect(close(point.y, y), "y of \(point.id): \(point.y) against \(y)")
        }
        for (ours, theirs) in zip(analysis.explainedVariance, fixture.expected.explained_variance) {
            #expect(close(ours, theirs))
        }
    }

    @Test(arguments: Fixture.names.filter { $0.hasPrefix("planted") })
    func theCampsMatchScikitLearnsKMeans(name: String) throws {
        let fixture = try Fixture.load(name)
        let analysis = try Analysis(fixture.input)
        let expected = try #require(fixture.expected.labels)
        let ours = analysis.participants.map { Int($0.opinionGroup!.unicodeScalars.first!.value) - 65 }
        let ari = adjustedRandIndex(ours, expected)
        #expect(ari >= 0.95, "adjusted Rand index \(ari)")
        #expect(analysis.opinionGroups.count == Set(expected).count)
    }

    @Test(arguments: Fixture.names)
    func everyFigureAgreesWithTheCheckerGivenTheSamePartition(name: String) throws {
        let fixture = try Fixture.load(name)
        let expected = fixture.expected
        let analysis = try Analysis(fixture.input, partition: expected.labels)
        #expect(close(analysis.silhouette, expected.silhouette), "silhouette \(String(describing: analysis.silhouette))")
        #expect(analysis.statements.count == expected.statements.count)
        for (ours, theirs) in zip(analysis.statements, expected.statements) {
            #expect(ours.id == theirs.id)
            let counts: [Int] = [ours.agree, ours.disagree, ours.pass, ours.voters]
            let expectedCounts: [Int] = [theirs.agree, theirs.disagree, theirs.pass, theirs.voters]
            #expect(counts == expectedCounts)
            #expect(close(ours.divisiveness, theirs.divisiveness), "divisiveness of \(ours.id)")
            #expect(close(ours.groupConsensus, theirs.group_consensus), "group consensus of \(ours.id)")
            #expect(close(ours.configuredGroupConsensus, theirs.configured_group_consensus), "configured consensus of \(ours.id)")
        }
        #expect(analysis.opinionGroups.map(\.id) == expected.opinion_groups.map(\.id))
        for (ours, theirs) in zip(analysis.opinionGroups, expected.opinion_groups) {
            #expect(ours.size == theirs.size)
            #expect(ours.byGroup.map(\.group) == fixture.configured_groups)
            for share in ours.byGroup {
                #expect(share.count == theirs.by_group[share.group]?.count)
                #expect(close(share.share, theirs.by_group[share.group]?.share), "share of \(share.group) in \(ours.id)")
            }
            #expect(ours.representative.map { "\($0.statement) \($0.direction.rawValue)" }
                == theirs.representative.map { "\($0.statement) \($0.direction)" })
            for (r, t) in zip(ours.representative, theirs.representative) {
                #expect(close(r.repness, t.repness) && close(r.z, t.z) && close(r.share, t.share), "camp \(ours.id) \(r.statement)")
            }
        }
    }

    @Test func theCampsOfThePlantedDataHaveRepresentativeStatements() throws {
        let analysis = try Analysis(Fixture.load("planted-three-camps").input)
        #expect(analysis.opinionGroups.count == 3)
        #expect(analysis.opinionGroups.allSatisfy { !$0.representative.isEmpty })
    }
}
