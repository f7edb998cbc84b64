import GRDB
import StellingCore

/// A participant's final vote on one statement.
struct FinalVote: Sendable {
    var choice: Choice
    var at: Instant
    var sequence: UInt64
}

/// One accepted vote as it moved the counts: `from` is the choice it replaced.
struct VoteStep: Sendable {
    var at: Instant
    var from: Choice?
    var to: Choice
}

/// Everything the exports need, read from the database in one read transaction (a consistent
/// snapshot even while the server writes) and folded through the core's `Room`, so the exports
/// count exactly as the live room did.
struct ExportSnapshot: Sendable {
    /// The configuration as stored in the metadata.
    var configuration: Configuration
    /// When the export was made.
    var exportedAt: Instant
    /// Whether participants' names are written (PROTOCOL.md: only when asked, `?names=1` or
    /// `stelling export --with-names`); otherwise name cells are empty and name fields `null`.
    var names = false
    /// The room rebuilt from the records.
    var room: Room
    /// Participants in the order they joined.
    var participantOrder: [ParticipantID] = []
    /// When each participant joined.
    var joinedAt: [ParticipantID: Instant] = [:]
    /// Each statement's final votes by participant.
    var finalVotes: [StatementID: [ParticipantID: FinalVote]] = [:]
    /// The largest `present` recorded while the statement's voting was open: when it was
    /// shown, when its voting opened or closed, and when another statement replaced it.
    var mostPresent: [StatementID: Int] = [:]
    /// Each statement's accepted votes in order, for the chart of how the vote moved.
    var timeline: [StatementID: [VoteStep]] = [:]
    /// Statements whose ballot was sealed (`privacy.ballot: secret`): counts only.
    var sealed: Set<StatementID> = []
    /// The opinion analysis, made on first use (ExportAnalysis.swift).
    let analysisCache = AnalysisCache()

    init(configuration: Configuration, exportedAt: Instant) {
        self.configuration = configuration
        self.exportedAt = exportedAt
        room = Room(configuration: configuration)
    }

    /// Reads the database at `path` read-only.
    static func load(databasePath path: String, exportedAt: Instant) throws(StoreError) -> ExportSnapshot {
        var options = GRDB.Configuration()
        options.readonly = true
        options.busyMode = .timeout(5)
        options.label = "stelling.export"
        do {
            let queue = try DatabaseQueue(path: path, configuration: options)
            defer { try? queue.close() }
            return try queue.read { db in
                guard try db.tableExists("event"), try db.tableExists("record") else {
                    throw StoreError.notAnEventDatabase("it has no event or record table")
                }
                var snapshot = ExportSnapshot(configuration: try Schema.readConfiguration(in: db), exportedAt: exportedAt)
                // A database no server opened since Revision 2 lacks its columns: read them as NULL.
                let revision2 = try db.columns(in: "record").contains { $0.name == "question" }
                let rows = try Row.fetchCursor(db, sql: revision2 ? Schema.selectRecords : Schema.selectRecordsBeforeRevision2)
                while let row = try rows.next() {
                    let (sequence, record) = try Schema.record(from: row)
                    snapshot.fold(record, sequence: sequence)
                }
                for record in try Schema.sealedRecords(in: db) { snapshot.fold(record, sequence: 0) }
                return snapshot
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }

    /// Applies one record to the room and keeps what the room does not: vote times, join order,
    /// the timeline and the latest `present` per statement.
    mutating func fold(_ record: Record, sequence: UInt64) {
        // The statement an incoming `statementShown` closes, before the room moves on.
        let leaving = room.votingOpen ? room.currentStatement : nil
        room.apply(record)
        switch record {
        case let .participantJoined(id, _, _, _, at):
            if joinedAt[id] == nil {
                participantOrder.append(id)
                joinedAt[id] = at
            }
        case let .voteCast(statement, participant, choice, at):
            guard room.statement(statement) != nil else { return }
            let previous = finalVotes[statement]?[participant]?.choice
            finalVotes[statement, default: [:]][participant] = FinalVote(choice: choice, at: at, sequence: sequence)
            timeline[statement, default: []].append(VoteStep(at: at, from: previous, to: choice))
        case let .statementShown(statement, _, present):
            mostPresent[statement] = max(mostPresent[statement] ?? 0, present)
            if let leaving, leaving != statement { mostPresent[leaving] = max(mostPresent[leaving] ?? 0, present) }
        case let .votingChanged(statement, _, _, present):
            mostPresent[statement] = max(mostPresent[statement] ?? 0, present)
        case let .ballotSealed(statement, _):
            // A secret ballot keeps only counts: no votes, no timeline to show.
            sealed.insert(statement)
            finalVotes[statement] = nil
            timeline[statement] = nil
        case let .sealedVotes(statement, _, _, _):
            sealed.insert(statement)
        default:
            break
        }
    }

    /// Whether voting on the statement is open now.
    func isOpen(_ statement: StatementState) -> Bool {
        room.votingOpen && room.currentStatement == statement.id
    }

    /// The participants present while the statement's voting was open, the base of its
    /// turnout (docs/EXPORTS.md, Turnout): the most recorded present at any moment voting
    /// opened or closed, and at least everyone who voted (a voter was present), so turnout never
    /// exceeds 100%. From the records alone, so the same on every export. `nil` for a
    /// statement never shown.
    func present(for statement: StatementState) -> Int? {
        guard statement.openedAt != nil else { return nil }
        return max(mostPresent[statement.id] ?? 0, statement.counts.total)
    }

    /// The final votes on a statement in the order they were cast.
    func votes(on statement: StatementID) -> [(participant: ParticipantID, vote: FinalVote)] {
        (finalVotes[statement] ?? [:]).map { ($0.key, $0.value) }.sorted { $0.vote.sequence < $1.vote.sequence }
    }

    /// The groups of a statement's breakdown that the published exports do not show
    /// (`privacy.min_group_size`; docs/PRIVACY.md): every group, and "without a group", with
    /// at least one but fewer voters than the minimum. When that is one row only, the smallest
    /// other row with voters is withheld too, or the first could be worked out from the total.
    /// `nil` stands for "without a group".
    func withheldGroups(of statement: StatementState) -> Set<String?> {
        guard let groups = groupCounts(of: statement) else { return [] }
        let minimum = configuration.privacy.minGroupSize
        let grouped = groups.reduce(0) { $0 + $1.counts.total }
        var rows: [(name: String?, voters: Int)] = groups.map { ($0.name, $0.counts.total) }
        rows.append((nil, statement.counts.total - grouped))
        let withVoters = rows.filter { $0.voters > 0 }
        var withheld = Set(withVoters.filter { $0.voters < minimum }.map(\.name))
        if withheld.count == 1,
           let next = withVoters.filter({ !withheld.contains($0.name) }).min(by: { $0.voters < $1.voters }) {
            withheld.insert(next.name)
        }
        return withheld
    }

    /// Per-group counts of a statement in the configured order; `nil` when the event has no groups.
    func groupCounts(of statement: StatementState) -> [(name: String, counts: Counts)]? {
        configuration.groups.isEmpty ? nil
            : configuration.groups.map { (name: $0, counts: statement.groupCounts[$0] ?? Counts()) }
    }
}
