import StellingCore

extension AnalysisInput {
    /// A made-up event with `camps` planted camps, for benchmarks and demos: each camp leans agree or
    /// disagree on every statement (everyone agrees with the first), a member follows the lean 80% of
    /// the time, votes at random 10% and skips 10%. Deterministic for a given `seed`.
    public static func planted(participants: Int, statements: Int, camps: Int, groups: [String] = [],
                               seed: UInt64 = 1) -> AnalysisInput {
        var random = SplitMix64(seed: seed)
        let camps = max(1, camps)
        let lean: [[Choice]] = (0..<camps).map { _ in
            (0..<statements).map { j in j == 0 || random.unit() < 0.5 ? .agree : .disagree }
        }
        var input = AnalysisInput(statements: (0..<statements).map { .init(id: "s\($0 + 1)", text: "Statement \($0 + 1)") },
                                  configuredGroups: groups)
        for i in 0..<participants {
            let camp = i % camps
            let votes: [Choice?] = (0..<statements).map { j in
                let r = random.unit()
                if r < 0.1 { return nil }
                if r < 0.2 { return Choice.allCases[Int(random.next() % 3)] }
                return lean[camp][j]
            }
            let group = groups.isEmpty ? nil : groups[(camp + (random.unit() < 0.2 ? 1 : 0)) % groups.count]
            input.participants.append(.init(id: "p\(i)", group: group, votes: votes))
        }
        return input
    }
}
