import Foundation
import GRDB
import StellingCore

/// The database layout of one event, and how records map to rows.
///
/// Tables (migration `v1`):
/// - `event`: one row (id 1) with the title, language, groups and programme, rewritten from the
///   configuration whenever the store opens, so that exports need nothing but the database.
/// - `configured_statement`: the configured statements with their positions (from 1), rewritten
///   at open. Statements added live are records, not rows here.
/// - `record`: every durable fact, by `sequence` (the number `EventStore.append` returned), with
///   its `kind`, its time `at` (milliseconds since 1970 UTC) and the columns that kind uses.
///   One table keeps recovery a single ordered scan of the primary key.
///
/// Migration `revision2` adds the columns of PROTOCOL.md Revision 2's records: `question` (a
/// question's id), `state` (a question's state or the chat mode) and `amount` (slow mode's seconds).
enum Schema {
    /// The migrations, from the first version on.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    title TEXT NOT NULL,
                    language TEXT NOT NULL,
                    groups TEXT NOT NULL,
                    programme TEXT NOT NULL
                );
                CREATE TABLE configured_statement (
                    id TEXT PRIMARY KEY NOT NULL,
                    position INTEGER NOT NULL UNIQUE,
                    text TEXT NOT NULL
                );
                CREATE TABLE record (
                    sequence INTEGER PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    statement TEXT,
                    participant TEXT,
                    message INTEGER,
                    choice TEXT,
                    flag INTEGER,
                    present INTEGER,
                    name TEXT,
                    group_name TEXT,
                    role TEXT,
                    text TEXT,
                    token_hash TEXT
                );
                """)
        }
        migrator.registerMigration("revision2") { db in
            try db.execute(sql: """
                ALTER TABLE record ADD COLUMN question TEXT;
                ALTER TABLE record ADD COLUMN state TEXT;
                ALTER TABLE record ADD COLUMN amount INTEGER;
                """)
        }
        // Issue 13: the privacy settings the offline exports need (named apart from the
        // numbered migrations other branches add).
        migrator.registerMigration("privacy-1") { db in
            try db.execute(sql: """
                ALTER TABLE event ADD COLUMN min_group_size INTEGER NOT NULL DEFAULT 5;
                ALTER TABLE event ADD COLUMN ballot TEXT NOT NULL DEFAULT 'pseudonymous';
                CREATE TABLE sealed_count (
                    statement TEXT NOT NULL,
                    group_name TEXT NOT NULL,
                    choice TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (statement, group_name, choice)
                ) WITHOUT ROWID;
                CREATE TABLE sealed_voter (
                    statement TEXT NOT NULL,
                    participant TEXT NOT NULL,
                    PRIMARY KEY (statement, participant)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// The insert statement; its arguments come from `arguments(for:sequence:)`.
    static let insertRecord = """
        INSERT OR REPLACE INTO record
            (sequence, kind, at, statement, participant, message, choice, flag, present, name, group_name, role, text, token_hash,
             question, state, amount)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The select statement whose rows `record(from:)` reads, in sequence order.
    static let selectRecords = """
        SELECT sequence, kind, at, statement, participant, message, choice, flag, present, name, group_name, role, text, token_hash,
               question, state, amount
        FROM record ORDER BY sequence
        """

    /// `selectRecords` for a database made before migration `revision2` (read-only exports).
    static let selectRecordsBeforeRevision2 = """
        SELECT sequence, kind, at, statement, participant, message, choice, flag, present, name, group_name, role, text, token_hash,
               NULL, NULL, NULL
        FROM record ORDER BY sequence
        """

    /// The `kind` column's values.
    enum Kind: String {
        case participantJoined = "participant_joined"
        case voteCast = "vote_cast"
        case chatPosted = "chat_posted"
        case messageHidden = "message_hidden"
        case participantMuted = "participant_muted"
        case statementShown = "statement_shown"
        case votingChanged = "voting_changed"
        case resultsRevealed = "results_revealed"
        case statementAdded = "statement_added"
        case announcementSet = "announcement_set"
        case participantErased = "participant_erased"
        case ballotSealed = "ballot_sealed"
        // Replay-only records; the store keeps them in `sealed_count` and `sealed_voter`, and
        // writes these kinds only if one is ever appended.
        case sealedVotes = "sealed_votes"
        case sealedVoter = "sealed_voter"
        case chatModeSet = "chat_mode_set"
        case questionAsked = "question_asked"
        case questionUpvoted = "question_upvoted"
        case questionStateSet = "question_state_set"
        case questionsOpened = "questions_opened"
    }

    /// The row of one record, in the column order of `insertRecord`.
    static func arguments(for record: Record, sequence: UInt64) -> StatementArguments {
        var kind: Kind
        var statement: String?
        var participant: String?
        var message: Int?
        var choice: String?
        var flag: Bool?
        var present: Int?
        var name: String?
        var group: String?
        var role: String?
        var text: String?
        var tokenHash: String?
        var question: String?
        var state: String?
        var amount: Int?
        switch record {
        case let .participantJoined(id, joinedName, joinedGroup, hash, _):
            kind = .participantJoined
            participant = id.rawValue; name = joinedName; group = joinedGroup; tokenHash = hash
        case let .voteCast(votedStatement, voter, chosen, _):
            kind = .voteCast
            statement = votedStatement.rawValue; participant = voter.rawValue; choice = chosen.rawValue
        case let .chatPosted(posted):
            kind = .chatPosted
            message = posted.id.rawValue; participant = posted.from.id.rawValue; name = posted.from.name
            role = posted.from.role.rawValue; text = posted.text; statement = posted.statement?.rawValue
            flag = posted.hidden
        case let .messageHidden(id, _):
            kind = .messageHidden
            message = id.rawValue
        case let .participantMuted(id, muted, _):
            kind = .participantMuted
            participant = id.rawValue; flag = muted
        case let .statementShown(shown, _, presentThen):
            kind = .statementShown
            statement = shown.rawValue; present = presentThen
        case let .votingChanged(changed, open, _, presentThen):
            kind = .votingChanged
            statement = changed.rawValue; flag = open; present = presentThen
        case let .resultsRevealed(revealed, visible, _):
            kind = .resultsRevealed
            statement = revealed.rawValue; flag = visible
        case let .statementAdded(added, addedText, _):
            kind = .statementAdded
            statement = added.rawValue; text = addedText
        case let .announcementSet(pinned, _):
            kind = .announcementSet
            text = pinned
        case let .participantErased(_, replacement, _):
            // Only the new id: the erased one must not stay in the file (Privacy.erase).
            kind = .participantErased
            participant = replacement.rawValue
        case let .ballotSealed(sealed, _):
            kind = .ballotSealed
            statement = sealed.rawValue
        case let .sealedVotes(sealed, sealedGroup, chosen, count):
            kind = .sealedVotes
            statement = sealed.rawValue; group = sealedGroup; choice = chosen.rawValue; present = count
        case let .sealedVoter(sealed, voter):
            kind = .sealedVoter
            statement = sealed.rawValue; participant = voter.rawValue
        case let .chatModeSet(mode, _):
            kind = .chatModeSet
            state = mode.name
            if case let .slow(seconds) = mode { amount = seconds }
        case let .questionAsked(asked):
            kind = .questionAsked
            question = asked.id.rawValue; participant = asked.asker.rawValue; name = asked.name; text = asked.text
            flag = asked.anonymous; state = asked.state.rawValue
        case let .questionUpvoted(upvoted, voter, up, _):
            kind = .questionUpvoted
            question = upvoted.rawValue; participant = voter.rawValue; flag = up
        case let .questionStateSet(changed, newState, _):
            kind = .questionStateSet
            question = changed.rawValue; state = newState.rawValue
        case let .questionsOpened(open, _):
            kind = .questionsOpened
            flag = open
        }
        return [
            Int64(sequence), kind.rawValue, record.at.milliseconds, statement, participant, message, choice,
            flag, present, exact(name), exact(group), role, exact(text), tokenHash, question, state, amount,
        ]
    }

    /// Text as a value SQLite keeps exactly. GRDB binds and reads strings as C strings, which end
    /// at a NUL; chat text may hold one (JSON allows `\u0000`), so such text is stored as a BLOB
    /// of its UTF-8 bytes. Readers use `text(_:_:)`, which reads both forms.
    static func exact(_ text: String?) -> (any DatabaseValueConvertible)? {
        guard let text else { return nil }
        return text.utf8.contains(0) ? Data(text.utf8) : text
    }

    /// Reads a text column written with `exact(_:)` from a row of a cursor.
    static func text(_ row: Row, _ index: Int) -> String? {
        guard let bytes = row[index] as Data? else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads one row of `selectRecords` back into its sequence number and record.
    static func record(from row: Row) throws(StoreError) -> (sequence: UInt64, record: Record) {
        let sequence = UInt64(row[0] as Int64)
        func fail(_ reason: String) -> StoreError { .corruptRecord(sequence: sequence, reason: reason) }
        func string(_ index: Int, _ column: String) throws(StoreError) -> String {
            guard let value = text(row, index) else { throw fail("\(column) is missing") }
            return value
        }
        func integer(_ index: Int, _ column: String) throws(StoreError) -> Int {
            guard let value = row[index] as Int? else { throw fail("\(column) is missing") }
            return value
        }
        func flag() throws(StoreError) -> Bool {
            guard let value = row[7] as Bool? else { throw fail("flag is missing") }
            return value
        }
        let kindText: String = try string(1, "kind")
        guard let kind = Kind(rawValue: kindText) else { throw fail("unknown kind \(kindText)") }
        let at = Instant(milliseconds: row[2] as Int64)
        let record: Record
        switch kind {
        case .participantJoined:
            record = .participantJoined(
                id: ParticipantID(try string(4, "participant")), name: try string(9, "name"),
                group: text(row, 10), tokenHash: try string(13, "token_hash"), at: at)
        case .voteCast:
            let choiceText = try string(6, "choice")
            guard let choice = Choice(rawValue: choiceText) else { throw fail("unknown choice \(choiceText)") }
            record = .voteCast(statement: StatementID(try string(3, "statement")),
                               participant: ParticipantID(try string(4, "participant")), choice: choice, at: at)
        case .chatPosted:
            let roleText = try string(11, "role")
            guard let role = Role(rawValue: roleText) else { throw fail("unknown role \(roleText)") }
            record = .chatPosted(ChatMessage(
                id: MessageID(try integer(5, "message")),
                from: Author(id: ParticipantID(try string(4, "participant")), name: try string(9, "name"), role: role),
                text: try string(12, "text"), at: at, statement: (row[3] as String?).map { StatementID($0) },
                hidden: (row[7] as Bool?) ?? false))
        case .messageHidden:
            record = .messageHidden(MessageID(try integer(5, "message")), at: at)
        case .participantMuted:
            record = .participantMuted(ParticipantID(try string(4, "participant")), muted: try flag(), at: at)
        case .statementShown:
            record = .statementShown(StatementID(try string(3, "statement")), at: at, present: try integer(8, "present"))
        case .votingChanged:
            record = .votingChanged(StatementID(try string(3, "statement")), open: try flag(), at: at,
                                    present: try integer(8, "present"))
        case .resultsRevealed:
            record = .resultsRevealed(StatementID(try string(3, "statement")), visible: try flag(), at: at)
        case .statementAdded:
            record = .statementAdded(StatementID(try string(3, "statement")), text: try string(12, "text"), at: at)
        case .announcementSet:
            record = .announcementSet(text(row, 12), at: at)
        case .participantErased:
            let replacement = ParticipantID(try string(4, "participant"))
            record = .participantErased(replacement, replacement: replacement, at: at)
        case .ballotSealed:
            record = .ballotSealed(StatementID(try string(3, "statement")), at: at)
        case .sealedVotes:
            let choiceText = try string(6, "choice")
            guard let choice = Choice(rawValue: choiceText) else { throw fail("unknown choice \(choiceText)") }
            record = .sealedVotes(StatementID(try string(3, "statement")), group: text(row, 10), choice: choice,
                                  count: try integer(8, "present"))
        case .sealedVoter:
            record = .sealedVoter(StatementID(try string(3, "statement")), ParticipantID(try string(4, "participant")))
        case .chatModeSet:
            switch try string(15, "state") {
            case "open": record = .chatModeSet(.open, at: at)
            case "closed": record = .chatModeSet(.closed, at: at)
            case "slow": record = .chatModeSet(.slow(seconds: try integer(16, "amount")), at: at)
            case let other: throw fail("unknown chat mode \(other)")
            }
        case .questionAsked:
            let stateText = try string(15, "state")
            guard let state = QuestionState(rawValue: stateText) else { throw fail("unknown question state \(stateText)") }
            record = .questionAsked(Question(
                id: QuestionID(try string(14, "question")), text: try string(12, "text"),
                asker: ParticipantID(try string(4, "participant")), name: try string(9, "name"),
                anonymous: try flag(), at: at, state: state))
        case .questionUpvoted:
            record = .questionUpvoted(QuestionID(try string(14, "question")), participant: ParticipantID(try string(4, "participant")),
                                      up: try flag(), at: at)
        case .questionStateSet:
            let stateText = try string(15, "state")
            guard let state = QuestionState(rawValue: stateText) else { throw fail("unknown question state \(stateText)") }
            record = .questionStateSet(QuestionID(try string(14, "question")), state: state, at: at)
        case .questionsOpened:
            record = .questionsOpened(try flag(), at: at)
        }
        return (sequence, record)
    }

    /// Writes the event's metadata from the configuration (at every open).
    static func writeMetadata(_ configuration: Configuration, in db: Database) throws {
        var groups = JSONWriter()
        groups.beginArray()
        for group in configuration.groups { groups.string(group) }
        groups.endArray()
        var programme = JSONWriter()
        programme.beginArray()
        for item in configuration.programme {
            programme.beginObject(); programme.field("time", item.time); programme.field("item", item.item); programme.endObject()
        }
        programme.endArray()
        try db.execute(
            sql: "INSERT OR REPLACE INTO event (id, title, language, groups, programme) VALUES (1, ?, ?, ?, ?)",
            arguments: [configuration.title, configuration.language,
                        String(decoding: groups.bytes, as: UTF8.self), String(decoding: programme.bytes, as: UTF8.self)])
        try db.execute(sql: "UPDATE event SET min_group_size = ?, ballot = ? WHERE id = 1",
                       arguments: [configuration.privacy.minGroupSize, configuration.privacy.ballot.rawValue])
        try db.execute(sql: "DELETE FROM configured_statement")
        var seen: Set<String> = []
        for spec in configuration.statements where seen.insert(spec.id).inserted {
            try db.execute(sql: "INSERT INTO configured_statement (id, position, text) VALUES (?, ?, ?)",
                           arguments: [spec.id, seen.count, spec.text])
        }
    }

    /// Reads the configuration back from the metadata: title, language, groups, programme, the
    /// configured statements and the privacy settings; everything else keeps the protocol's defaults.
    static func readConfiguration(in db: Database) throws(StoreError) -> Configuration {
        do {
            guard let row = try Row.fetchOne(db, sql: "SELECT title, language, groups, programme FROM event WHERE id = 1") else {
                throw StoreError.notAnEventDatabase("it has no event row")
            }
            var configuration = Configuration(title: row[0], language: row[1])
            if case let .array(values)? = JSONValue.parse(Array((row[2] as String).utf8)) {
                configuration.groups = values.compactMap { if case let .string(text) = $0 { text } else { nil } }
            }
            if case let .array(values)? = JSONValue.parse(Array((row[3] as String).utf8)) {
                configuration.programme = values.compactMap {
                    guard case let .object(fields) = $0, case let .string(time)? = fields["time"],
                          case let .string(item)? = fields["item"] else { return nil }
                    return ProgrammeItem(time: time, item: item)
                }
            }
            configuration.statements = try Row.fetchAll(db, sql: "SELECT id, text FROM configured_statement ORDER BY position")
                .map { StatementSpec(id: $0[0], text: $0[1]) }
            if try db.columns(in: "event").contains(where: { $0.name == "min_group_size" }),
               let privacy = try Row.fetchOne(db, sql: "SELECT min_group_size, ballot FROM event WHERE id = 1") {
                configuration.privacy.minGroupSize = max(1, privacy[0] as Int)
                configuration.privacy.ballot = PrivacySettings.Ballot(rawValue: privacy[1] as String) ?? .pseudonymous
            }
            return configuration
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(String(describing: error))
        }
    }

    // MARK: Secret ballot (privacy.ballot: secret)

    /// Seals a statement inside the caller's transaction: each participant's final vote is
    /// added to `sealed_count` by group and choice, the voter (without the choice) to
    /// `sealed_voter`, and every `vote_cast` row of the statement is deleted.
    static func seal(_ statement: StatementID, in db: Database) throws {
        var groups: [String: String] = [:]
        let joined = try Row.fetchCursor(db, sql: "SELECT participant, group_name FROM record WHERE kind = 'participant_joined'")
        while let row = try joined.next() {
            if let participant = row[0] as String?, let group = text(row, 1) { groups[participant] = group }
        }
        // SQLite takes the bare columns of an aggregate query from the row with the max.
        let finals = try Row.fetchAll(db, sql: """
            SELECT participant, choice, max(sequence) FROM record
            WHERE kind = 'vote_cast' AND statement = ? GROUP BY participant
            """, arguments: [statement.rawValue])
        var counts: [String: [String: Int]] = [:]
        for row in finals {
            guard let participant = row[0] as String?, let choice = row[1] as String? else { continue }
            counts[groups[participant] ?? "", default: [:]][choice, default: 0] += 1
            try db.execute(sql: "INSERT OR IGNORE INTO sealed_voter (statement, participant) VALUES (?, ?)",
                           arguments: [statement.rawValue, participant])
        }
        for (group, choices) in counts {
            for (choice, count) in choices {
                try db.execute(sql: """
                    INSERT INTO sealed_count (statement, group_name, choice, count) VALUES (?, ?, ?, ?)
                    ON CONFLICT (statement, group_name, choice) DO UPDATE SET count = count + excluded.count
                    """, arguments: [statement.rawValue, group, choice, count])
            }
        }
        try db.execute(sql: "DELETE FROM record WHERE kind = 'vote_cast' AND statement = ?", arguments: [statement.rawValue])
    }

    /// The sealed statements' counts and voters as replay records, after the stored records.
    static func sealedRecords(in db: Database) throws -> [Record] {
        guard try db.tableExists("sealed_count") else { return [] }
        var records: [Record] = []
        for row in try Row.fetchAll(db, sql: "SELECT statement, group_name, choice, count FROM sealed_count") {
            guard let choice = Choice(rawValue: row[2]) else { continue }
            let group: String = row[1]
            records.append(.sealedVotes(StatementID(row[0]), group: group.isEmpty ? nil : group, choice: choice, count: row[3]))
        }
        for row in try Row.fetchAll(db, sql: "SELECT statement, participant FROM sealed_voter") {
            records.append(.sealedVoter(StatementID(row[0]), ParticipantID(row[1])))
        }
        return records
    }
}
