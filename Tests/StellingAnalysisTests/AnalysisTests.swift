import StellingCore
import Testing
@testable import StellingAnalysis

@Suite("Analysis")
struct AnalysisTests {
    /// `perCamp` participants per camp; camp c agrees with statement j when bit c of j is 0 (so
    /// every camp leans differently), and everyone agrees with the first statement.
    func planted(camps: Int, perCamp: Int, statements: Int, groups: [String] = []) throws -> AnalysisInput {
        var input = AnalysisInput(statements: (1...statements).map { .init(id: "s\($0)", text: "Stelling \($0)") },
                                  configuredGroups: groups)
        for camp in 0..<camps {
            for member in 0..<perCamp {
                let votes: [Choice?] = (0..<statements).map { j in
                    if j == 0 { return .agree }
                    if (member + j) % 7 == 0 { return nil }
                    return (j >> camp) & 1 == 0 ? .agree : .disagree
                }
                try input.add(.init(id: "p\(camp)-\(member)", group: groups.isEmpty ? nil : groups[camp % groups.count], votes: votes))
            }
        }
        return input
    }

    @Test func divisivenessIsZeroForOneSidedAndOneForAnEvenSplit() throws {
        var input = AnalysisInput(statements: [.init(id: "s1", text: "a"), .init(id: "s2", text: "b"), .init(id: "s3", text: "c")],
                                  configuredGroups: [])
        try input.add(.init(id: "p1", group: nil, votes: [.agree, .agree, .pass]))
        try input.add(.init(id: "p2", group: nil, votes: [.agree, .disagree, .pass]))
        let analysis = try Analysis(input)
        #expect(analysis.statements.map(\.divisiveness) == [0, 1, nil])
        #expect(analysis.statements[2].pass == 2)
    }

    @Test func participantsWithTooFewVotesAreLeftOut() throws {
        var input = AnalysisInput(statements: (1...4).map { .init(id: "s\($0)", text: "") }, configuredGroups: [])
        try input.add(.init(id: "three", group: nil, votes: [.agree, .pass, .disagree, nil]))
        try input.add(.init(id: "two", group: nil, votes: [.agree, nil, .disagree, nil]))
        let analysis = try Analysis(input)
        #expect(analysis.minimumVotes == 3)
        #expect(analysis.participants.map(\.id) == ["three"])
        #expect(analysis.statements[0].agree == 1)
    }

    @Test func withOneStatementOneVoteIsEnough() throws {
        var input = AnalysisInput(statements: [.init(id: "s1", text: "")], configuredGroups: [])
        try input.add(.init(id: "p1", group: nil, votes: [.agree]))
        #expect(try Analysis(input).minimumVotes == 1)
        #expect(try Analysis(input).participants.count == 1)
    }

    @Test func fewerThanTenParticipantsMakeNoCamps() throws {
        let analysis = try Analysis(planted(camps: 3, perCamp: 3, statements: 6))
        #expect(analysis.participants.count == 9)
        #expect(analysis.opinionGroups.isEmpty)
        #expect(analysis.participants.allSatisfy { $0.opinionGroup == nil })
        #expect(analysis.statements.allSatisfy { $0.groupConsensus == nil })
        #expect(analysis.silhouette == nil)
    }

    @Test func plantedCampsAreFoundAndNamedLargestFirst() throws {
        var input = try planted(camps: 2, perCamp: 12, statements: 8, groups: ["Gemeente", "Rijk"])
        for extra in 0..<3 {
            try input.add(.init(id: "extra\(extra)", group: "Gemeente", votes: input.participants[extra].votes))
        }
        let analysis = try Analysis(input)
        #expect(analysis.opinionGroups.map(\.id) == ["A", "B"])
        #expect(analysis.opinionGroups.map(\.size) == [15, 12])
        let a = try #require(analysis.opinionGroups.first)
        #expect(a.byGroup.map(\.group) == ["Gemeente", "Rijk"])
        #expect(a.byGroup[0].count == 15 && a.byGroup[0].share == 1)
        #expect(a.byGroup[1].count == 0 && a.byGroup[1].share == 0)
        #expect(!a.representative.isEmpty && a.representative.count <= 3)
        #expect(a.representative.allSatisfy { $0.z > Analysis.significantZ && $0.repness > 1 })
    }

    @Test func aStatementEveryCampAgreesOnRanksFirstByConsensus() throws {
        let analysis = try Analysis(planted(camps: 2, perCamp: 12, statements: 8))
        #expect(analysis.mostAgreed.first?.id == "s1")
        #expect(analysis.everyCamp(.agree).map(\.id) == ["s1", "s5"]) // camp 0 agrees on even, camp 1 on j % 4 < 2
        #expect(analysis.mostDivisive.first?.id != "s1")
        #expect(analysis.reading(language: "nl").contains("Alle groepen eens over “Stelling 1”."))
        #expect(analysis.reading(language: "en").contains("All groups agree on “Stelling 1”."))
    }

    @Test func theSameVotesGiveTheSameAnalysis() throws {
        let input = try planted(camps: 3, perCamp: 20, statements: 10)
        #expect(try Analysis(input) == Analysis(input))
        #expect(try Analysis(input).json(computedAt: "t") == Analysis(input).json(computedAt: "t"))
    }

    @Test func aParticipantWithTheWrongNumberOfVotesIsAClearError() {
        var input = AnalysisInput(statements: [.init(id: "s1", text: "")], configuredGroups: [])
        #expect(throws: AnalysisError.voteCount(participant: "p1", expected: 1, got: 2)) {
            try input.add(.init(id: "p1", group: nil, votes: [.agree, .agree]))
        }
    }

    @Test func aPartitionOfTheWrongLengthIsAClearError() throws {
        let input = try planted(camps: 2, perCamp: 6, statements: 5)
        #expect(throws: AnalysisError.partition(expected: 12, got: 3)) { try Analysis(input, partition: [0, 1, 0]) }
    }

    @Test func noVotesGiveAnEmptyAnalysisThatSaysSo() throws {
        let analysis = try Analysis(AnalysisInput(statements: [], configuredGroups: []))
        #expect(analysis.participants.isEmpty && analysis.statements.isEmpty && analysis.opinionGroups.isEmpty)
        #expect(analysis.reading(language: "nl").first?.hasPrefix("Er zijn nog geen deelnemers") == true)
    }

    @Test func theJSONHasEveryFieldOfTheIssue() throws {
        let analysis = try Analysis(planted(camps: 2, perCamp: 12, statements: 6, groups: ["Gemeente"]))
        let value = try #require(JSONValue.parse(analysis.json(computedAt: "2026-12-02T14:00:00Z")))
        guard case let .object(root) = value, case let .array(statements)? = root["statements"],
              case let .object(statement)? = statements.first, case let .array(groups)? = root["opinion_groups"],
              case let .object(group)? = groups.first, case let .array(points)? = root["participants"],
              case let .object(point)? = points.first else {
            Issue.record("unexpected shape"); return
        }
        #expect(root["computed_at"] == .string("2026-12-02T14:00:00Z"))
        for key in ["id", "agree", "disagree", "pass", "voters", "divisiveness", "group_consensus", "configured_group_consensus"] {
            #expect(statement[key] != nil, "statement.\(key)")
        }
        for key in ["id", "size", "by_group", "representative"] { #expect(group[key] != nil, "opinion_group.\(key)") }
        for key in ["id", "x", "y", "opinion_group"] { #expect(point[key] != nil, "participant.\(key)") }
    }

    @Test func theJacobiSolverFindsTheEigenvectorsOfASymmetricMatrix() {
        // The scatter matrix [[6, 2], [2, 6]] has eigenvalues 8 and 4 with eigenvectors (1, 1) and (1, -1) over √2.
        let result = PrincipalComponents.compute(centred: [1, 1, -1, -1, 1, -1, -1, 1, 1, 1, -1, -1],
                                                 rows: 6, columns: 2, count: 2)
        #expect(abs(result.components[0][0] - 0.5.squareRoot()) < 1e-12)
        #expect(abs(result.components[0][1] - 0.5.squareRoot()) < 1e-12)
        #expect(abs(abs(result.components[1][0]) - 0.5.squareRoot()) < 1e-12 && result.components[1][0] * result.components[1][1] < 0)
        #expect(abs(result.explainedVarianceRatio[0] - 2.0 / 3) < 1e-12)
    }
}
