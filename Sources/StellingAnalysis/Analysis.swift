import StellingCore

/// The opinion analysis of an event's votes (issue 15; docs/EXPORTS.md, analysis): per statement
/// the counts, divisiveness and group-informed consensus; opinion groups ("camps") found from the
/// votes themselves; what each camp stands for; and every participant's place on the opinion map.
///
/// Pure and deterministic: the same input gives the same analysis, to the last bit.
public struct Analysis: Sendable, Equatable {
    /// One statement's figures, counted over the analysed participants.
    public struct StatementFigures: Sendable, Equatable {
        /// The statement's id.
        public var id: String
        /// The statement's text.
        public var text: String
        /// Agree votes.
        public var agree: Int
        /// Disagree votes.
        public var disagree: Int
        /// Pass votes.
        public var pass: Int
        /// Everyone who voted on it: agree + disagree + pass.
        public var voters: Int
        /// 1 - |A - D| / (A + D): 0 when everyone chose one side, 1 when the room split in half;
        /// `nil` when nobody agreed or disagreed.
        public var divisiveness: Double?
        /// Group-informed consensus over the opinion groups: the product over groups g of
        /// (A_g + 1) / (V_g + 2); high only when every camp agrees. `nil` without opinion groups.
        public var groupConsensus: Double?
        /// The same product over the configured groups that have analysed participants; `nil` when none.
        public var configuredGroupConsensus: Double?
        /// The counts within each camp, in the order of `opinionGroups`.
        public var byOpinionGroup: [VoteCounts]
    }

    /// Agree, disagree and pass counts of some set of participants on one statement.
    public struct VoteCounts: Sendable, Equatable {
        /// Agree votes.
        public var agree: Int
        /// Disagree votes.
        public var disagree: Int
        /// Pass votes.
        public var pass: Int
        /// All votes.
        public var voters: Int { agree + disagree + pass }
    }

    /// Whether a representative statement is one the camp agrees with or disagrees with.
    public enum Direction: String, Sendable, Equatable {
        case agree
        case disagree
    }

    /// A statement that sets a camp apart.
    public struct Representative: Sendable, Equatable {
        /// The statement's id.
        public var statement: String
        /// Whether the camp agrees or disagrees more than the rest.
        public var direction: Direction
        /// ((A_in + 1) / (V_in + 2)) / ((A_out + 1) / (V_out + 2)), with D for disagree.
        public var repness: Double
        /// The two-proportion z statistic of the camp against everyone else.
        public var z: Double
        /// The share of the camp's voters on the statement who voted this way (A_in / V_in).
        public var share: Double
    }

    /// How many members of one configured group are in a camp.
    public struct GroupShare: Sendable, Equatable {
        /// The configured group.
        public var group: String
        /// The camp's members from that group.
        public var count: Int
        /// `count` divided by the group's analysed participants; `nil` when it has none.
        public var share: Double?
    }

    /// An opinion group (a camp).
    public struct OpinionGroup: Sendable, Equatable {
        /// "A", "B", … in order of size (largest first).
        public var id: String
        /// Its members.
        public var size: Int
        /// How each configured group spreads over the camps: one entry per configured group.
        public var byGroup: [GroupShare]
        /// Up to three statements that set it apart, strongest first.
        public var representative: [Representative]
        /// Its centre on the opinion map.
        public var centre: (x: Double, y: Double)

        public static func == (a: OpinionGroup, b: OpinionGroup) -> Bool {
            a.id == b.id && a.size == b.size && a.byGroup == b.byGroup && a.representative == b.representative
                && a.centre.x == b.centre.x && a.centre.y == b.centre.y
        }
    }

    /// One participant's place on the opinion map.
    public struct Point: Sendable, Equatable {
        /// The participant's id.
        public var id: String
        /// The configured group, if any.
        public var group: String?
        /// The position on the first principal component.
        public var x: Double
        /// The position on the second principal component.
        public var y: Double
        /// The camp's id, or `nil` when there are no camps.
        public var opinionGroup: String?
    }

    /// The statements of the input, in order.
    public var statements: [StatementFigures]
    /// The camps, largest first; empty when fewer than `minimumParticipantsForGroups` qualify.
    public var opinionGroups: [OpinionGroup]
    /// The analysed participants, in input order.
    public var participants: [Point]
    /// The votes a participant needed to be analysed: min(3, statements).
    public var minimumVotes: Int
    /// The mean silhouette of the chosen camps (-1 to 1; higher is a clearer split); `nil` without camps.
    public var silhouette: Double?
    /// The share of the variance in the votes that each map axis explains.
    public var explainedVariance: [Double]
    /// The configured groups, in order.
    public var configuredGroups: [String]

    /// Camps are only looked for when at least this many participants qualify.
    public static let minimumParticipantsForGroups = 10
    /// The numbers of camps tried.
    public static let groupCounts = 2...5
    /// The one-sided 90% critical value of the standard normal distribution (z > this is significant).
    public static let significantZ = 1.2815515655446004
    /// Representative statements kept per camp.
    public static let representativeCount = 3
    /// k-means restarts per number of camps.
    public static let restarts = 10
    /// The seed of the k-means++ seeding ("STELLING" in ASCII).
    public static let seed: UInt64 = 0x5354_454C_4C49_4E47

    /// Analyses the input. With `partition` (one label 0… per analysed participant, in input order)
    /// the camps are taken from it instead of from k-means: the tests use this to compare every
    /// figure with scikit-learn's given the same camps.
    public init(_ input: AnalysisInput, partition: [Int]? = nil) throws(AnalysisError) {
        let s = input.statements.count
        configuredGroups = input.configuredGroups
        let minimum = max(1, min(3, s))
        minimumVotes = minimum
        let analysed = input.participants.filter { $0.votes.reduce(0) { $0 + ($1 == nil ? 0 : 1) } >= minimum }
        let n = analysed.count
        if let partition, partition.count != n || partition.contains(where: { $0 < 0 }) {
            throw .partition(expected: n, got: partition.count)
        }

        // The vote matrix, missing votes imputed with the statement's mean, then centred: an
        // imputed entry becomes exactly 0.
        var sums = [Double](repeating: 0, count: s), counts = [Int](repeating: 0, count: s)
        for participant in analysed {
            for (j, vote) in participant.votes.enumerated() {
                if let vote { sums[j] += Analysis.value(vote); counts[j] += 1 }
            }
        }
        let means = (0..<s).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : 0 }
        var centred = [Double](repeating: 0, count: n * s)
        for (i, participant) in analysed.enumerated() {
            for (j, vote) in participant.votes.enumerated() {
                if let vote { centred[i * s + j] = Analysis.value(vote) - means[j] }
            }
        }
        let pca = PrincipalComponents.compute(centred: centred, rows: n, columns: s, count: 2)
        explainedVariance = pca.explainedVarianceRatio
        var xs = [Double](repeating: 0, count: n), ys = xs
        for i in 0..<n {
            var x = 0.0, y = 0.0
            for j in 0..<s {
                let value = centred[i * s + j]
                x += value * pca.components[0][j]
                y += value * pca.components[1][j]
            }
            xs[i] = x; ys[i] = y
        }

        // Camps: the given partition, or k-means for k = 2…5 with the best mean silhouette.
        var labels: [Int]? = nil
        var k = 0
        if let partition {
            k = (partition.max() ?? -1) + 1
            labels = partition
            silhouette = k >= 2 ? Silhouette.mean(x: xs, y: ys, labels: partition, k: k) : nil
        } else if n >= Analysis.minimumParticipantsForGroups {
            var best: (labels: [Int], k: Int, score: Double)?
            for candidate in Analysis.groupCounts where candidate < n {
                guard let run = KMeans.cluster(x: xs, y: ys, k: candidate, restarts: Analysis.restarts,
                                               seed: Analysis.seed &+ UInt64(candidate)),
                      let score = Silhouette.mean(x: xs, y: ys, labels: run.labels, k: candidate) else { continue }
                if best == nil || score > best!.score { best = (run.labels, candidate, score) }
            }
            if let best { labels = best.labels; k = best.k; silhouette = best.score } else { silhouette = nil }
        } else {
            silhouette = nil
        }

        // Camps in order of size, then of their centre on the map; named A, B, ….
        var groupOf = [Int?](repeating: nil, count: n)
        var centres: [(x: Double, y: Double)] = []
        var sizes: [Int] = []
        if let labels, k > 0 {
            var sx = [Double](repeating: 0, count: k), sy = sx, size = [Int](repeating: 0, count: k)
            for i in 0..<n { sx[labels[i]] += xs[i]; sy[labels[i]] += ys[i]; size[labels[i]] += 1 }
            let used = (0..<k).filter { size[$0] > 0 }
            let centre = { (c: Int) in (x: sx[c] / Double(size[c]), y: sy[c] / Double(size[c])) }
            let order = used.sorted { a, b in
                if size[a] != size[b] { return size[a] > size[b] }
                if centre(a).x != centre(b).x { return centre(a).x < centre(b).x }
                return centre(a).y < centre(b).y
            }
            var rank = [Int](repeating: 0, count: k)
            for (r, c) in order.enumerated() { rank[c] = r }
            for i in 0..<n { groupOf[i] = rank[labels[i]] }
            centres = order.map(centre)
            sizes = order.map { size[$0] }
        }
        let g = sizes.count

        // Counts per statement: overall, per camp, per configured group.
        let configuredIndex = Dictionary(uniqueKeysWithValues: input.configuredGroups.enumerated().map { ($1, $0) })
        let cg = input.configuredGroups.count
        var overall = [Tally](repeating: Tally(), count: s)
        var byCamp = [Tally](repeating: Tally(), count: s * max(g, 1))
        var byConfigured = [Tally](repeating: Tally(), count: s * max(cg, 1))
        var configuredMembers = [Int](repeating: 0, count: cg)
        var campByConfigured = [Int](repeating: 0, count: max(g, 1) * max(cg, 1))
        for (i, participant) in analysed.enumerated() {
            let configured = participant.group.flatMap { configuredIndex[$0] }
            if let configured {
                configuredMembers[configured] += 1
                if let camp = groupOf[i] { campByConfigured[camp * cg + configured] += 1 }
            }
            for (j, vote) in participant.votes.enumerated() {
                guard let vote else { continue }
                overall[j].add(vote)
                if let camp = groupOf[i] { byCamp[j * g + camp].add(vote) }
                if let configured { byConfigured[j * cg + configured].add(vote) }
            }
        }

        statements = input.statements.enumerated().map { j, statement in
            let t = overall[j]
            let sides = t.agree + t.disagree
            var consensus: Double? = nil
            if g > 0 {
                consensus = (0..<g).reduce(1.0) { product, c in
                    product * Double(byCamp[j * g + c].agree + 1) / Double(byCamp[j * g + c].voters + 2)
                }
            }
            let present = (0..<cg).filter { configuredMembers[$0] > 0 }
            let configuredConsensus: Double? = present.isEmpty ? nil : present.reduce(1.0) { product, c in
                product * Double(byConfigured[j * cg + c].agree + 1) / Double(byConfigured[j * cg + c].voters + 2)
            }
            return StatementFigures(
                id: statement.id, text: statement.text, agree: t.agree, disagree: t.disagree, pass: t.pass,
                voters: t.voters,
                divisiveness: sides == 0 ? nil : 1 - Double(abs(t.agree - t.disagree)) / Double(sides),
                groupConsensus: consensus, configuredGroupConsensus: configuredConsensus,
                byOpinionGroup: (0..<g).map { c in
                    let t = byCamp[j * g + c]
                    return VoteCounts(agree: t.agree, disagree: t.disagree, pass: t.pass)
                })
        }

        opinionGroups = (0..<g).map { c in
            var candidates: [(index: Int, order: Int, representative: Representative)] = []
            for j in 0..<s {
                let inside = byCamp[j * g + c]
                let outside = overall[j].minus(inside)
                for (order, direction) in [Direction.agree, .disagree].enumerated() {
                    let successIn = direction == .agree ? inside.agree : inside.disagree
                    let successOut = direction == .agree ? outside.agree : outside.disagree
                    let repness = (Double(successIn + 1) / Double(inside.voters + 2))
                        / (Double(successOut + 1) / Double(outside.voters + 2))
                    let z = Analysis.twoProportionZ(successIn, inside.voters, successOut, outside.voters)
                    guard z > Analysis.significantZ, repness > 1 else { continue }
                    candidates.append((j, order, Representative(
                        statement: input.statements[j].id, direction: direction, repness: repness, z: z,
                        share: Double(successIn) / Double(inside.voters))))
                }
            }
            candidates.sort { a, b in
                if a.representative.repness != b.representative.repness { return a.representative.repness > b.representative.repness }
                if a.representative.z != b.representative.z { return a.representative.z > b.representative.z }
                return (a.index, a.order) < (b.index, b.order)
            }
            let byGroup = input.configuredGroups.enumerated().map { index, name in
                GroupShare(group: name, count: campByConfigured[c * cg + index],
                           share: configuredMembers[index] == 0 ? nil
                               : Double(campByConfigured[c * cg + index]) / Double(configuredMembers[index]))
            }
            return OpinionGroup(id: Analysis.groupName(c), size: sizes[c], byGroup: byGroup,
                                representative: candidates.prefix(Analysis.representativeCount).map(\.representative),
                                centre: centres[c])
        }

        participants = analysed.enumerated().map { i, participant in
            Point(id: participant.id, group: participant.group, x: xs[i], y: ys[i],
                  opinionGroup: groupOf[i].map(Analysis.groupName))
        }
    }

    /// A camp's name: A, B, … Z, then A27, A28, … (never more than five are made).
    static func groupName(_ index: Int) -> String {
        index < 26 ? String(UnicodeScalar(UInt8(65 + index))) : "A\(index + 1)"
    }

    /// agree = +1, disagree = -1, pass = 0.
    static func value(_ choice: Choice) -> Double {
        switch choice {
        case .agree: 1
        case .disagree: -1
        case .pass: 0
        }
    }

    /// The pooled two-proportion z statistic of x1/n1 against x2/n2; 0 when either side has no
    /// voters or the pooled proportion is 0 or 1.
    static func twoProportionZ(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int) -> Double {
        guard n1 > 0, n2 > 0 else { return 0 }
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let pooled = Double(x1 + x2) / Double(n1 + n2)
        let variance = pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))
        guard variance > 0 else { return 0 }
        return (p1 - p2) / variance.squareRoot()
    }
}

/// Agree, disagree and pass counts.
struct Tally: Equatable {
    var agree = 0
    var disagree = 0
    var pass = 0

    var voters: Int { agree + disagree + pass }

    mutating func add(_ choice: Choice) {
        switch choice {
        case .agree: agree += 1
        case .disagree: disagree += 1
        case .pass: pass += 1
        }
    }

    func minus(_ other: Tally) -> Tally {
        Tally(agree: agree - other.agree, disagree: disagree - other.disagree, pass: pass - other.pass)
    }
}
