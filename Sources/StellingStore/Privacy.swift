import Foundation
import GRDB
import StellingCore

/// Removing personal data from an event's database (issue 13; docs/PRIVACY.md): one person's
/// erasure and the whole event's purge. Both rewrite the stored rows in place, so that a
/// replay rebuilds the same counts, with `PRAGMA secure_delete` on (freed bytes are zeroed)
/// and the write-ahead log checkpointed and truncated afterwards, so the old text is in
/// neither the database file nor its `-wal`.
public enum Privacy {
    /// Rewrites every row of participant `id` for `Record.participantErased`: the new id
    /// everywhere, no name, no token hash, chat texts replaced by `Room.erasedText` and hidden.
    /// Runs inside the caller's transaction.
    static func erase(_ id: ParticipantID, replacement: ParticipantID, in db: Database) throws {
        let arguments: StatementArguments = [replacement.rawValue, id.rawValue]
        try db.execute(sql: "UPDATE record SET name = '', token_hash = '' WHERE kind = 'participant_joined' AND participant = ?",
                       arguments: [id.rawValue])
        try db.execute(sql: "UPDATE record SET name = '', text = ?, flag = 1 WHERE kind = 'chat_posted' AND participant = ?",
                       arguments: [Room.erasedText, id.rawValue])
        // Revision 2: their questions keep their place and upvotes, not their text or name.
        try db.execute(sql: "UPDATE record SET name = '', text = ? WHERE kind = 'question_asked' AND participant = ?",
                       arguments: [Room.erasedText, id.rawValue])
        // Every other kind that names a participant (votes, mutes, and any added later) keeps
        // its row under the new id.
        try db.execute(sql: "UPDATE record SET participant = ? WHERE participant = ?", arguments: arguments)
        if try db.tableExists("sealed_voter") {
            try db.execute(sql: "UPDATE sealed_voter SET participant = ? WHERE participant = ?", arguments: arguments)
        }
    }

    /// After rows were rewritten: copies the log into the database and truncates it, so no
    /// old page image stays in the `-wal` file. A reader holding an old snapshot (an export
    /// being made) keeps the checkpoint from finishing; it waits at most 200 ms for it, so the
    /// store thread never holds acks back for long, and the log is truncated at the next
    /// erasure or seal, or when the server stops (SQLite removes the `-wal` at the last close).
    static func truncateLog(_ database: some DatabaseWriter) {
        try? database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA busy_timeout = 200")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = 5000") }
            _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Opens an event database for maintenance (erase, purge) with secure deletion on.
    static func open(_ path: String) throws(StoreError) -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .notAnEventDatabase("there is no file \(path)")
        }
        var options = GRDB.Configuration()
        options.busyMode = .timeout(5)
        options.label = "stelling.privacy"
        options.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        do {
            let queue = try DatabaseQueue(path: path, configuration: options)
            let isEvent = try queue.read { db in try db.tableExists("event") && db.tableExists("record") }
            guard isEvent else { throw StoreError.notAnEventDatabase("it has no event or record table") }
            return queue
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }

    /// `stelling erase`: erases one participant from a database the server is not using.
    /// Returns the new anonymous id; throws `unknownParticipant` for an id that is not a
    /// participant's (moderators and screens have no stored identity beyond their messages).
    @discardableResult
    public static func erase(
        databasePath path: String, participant: String, at now: Instant,
        random: inout some RandomNumberGenerator
    ) throws(StoreError) -> ParticipantID {
        let queue = try open(path)
        defer { try? queue.close() }
        do {
            let replacement: ParticipantID = try queue.write { db in
                let known = try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE kind = 'participant_joined' AND participant = ?",
                                             arguments: [participant]) ?? 0
                guard known > 0 else { throw StoreError.unknownParticipant(participant) }
                var replacement: ParticipantID
                repeat {
                    replacement = ParticipantID("x" + Room.randomID(length: 7, using: &random))
                } while try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE participant = ?", arguments: [replacement.rawValue]) ?? 0 > 0
                try erase(ParticipantID(participant), replacement: replacement, in: db)
                let next = (try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM record") ?? 0) + 1
                try db.execute(sql: Schema.insertRecord, arguments: Schema.arguments(
                    for: .participantErased(ParticipantID(participant), replacement: replacement, at: now), sequence: UInt64(next)))
                return replacement
            }
            try queue.vacuum()
            truncateLog(queue)
            return replacement
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }

    /// What a purge did.
    public struct PurgeSummary: Equatable, Sendable {
        /// Participants (and moderators) whose ids were replaced and names removed.
        public var participants: Int
        /// Chat messages and questions whose text was emptied.
        public var messages: Int
        /// Whether the event was purged: `false` when it is not older than asked, or was purged already.
        public var purged: Bool
    }

    /// The time of the event's last record (an erasure is not activity), or `nil` for an event with no records.
    public static func lastActivity(databasePath path: String) throws(StoreError) -> Instant? {
        let queue = try open(path)
        defer { try? queue.close() }
        do {
            return try queue.read { db in try Int64.fetchOne(db, sql: "SELECT max(at) FROM record WHERE kind != 'participant_erased'") }.map { Instant(milliseconds: $0) }
        } catch {
            throw .database(String(describing: error))
        }
    }

    /// `stelling purge` and the server at start (`retention_days`): when the event's last
    /// record (erasures do not count) is at least `olderThanDays` days before `now` (`nil`: purge now), removes all
    /// personal data: names and token hashes emptied, chat texts emptied, every participant and
    /// moderator id replaced by a new random one (consistently, so every count, per-group
    /// count and results.csv stays exactly as it was); then `VACUUM` and the log truncated.
    @discardableResult
    public static func purge(
        databasePath path: String, olderThanDays: Int?, now: Instant, random: inout some RandomNumberGenerator
    ) throws(StoreError) -> PurgeSummary {
        let queue = try open(path)
        defer { try? queue.close() }
        do {
            let summary: PurgeSummary = try queue.write { db in
                if let olderThanDays {
                    let last = try Int64.fetchOne(db, sql: "SELECT max(at) FROM record WHERE kind != 'participant_erased'")
                    guard let last, now.milliseconds - last >= Int64(olderThanDays) * 86_400_000 else {
                        return PurgeSummary(participants: 0, messages: 0, purged: false)
                    }
                }
                let leftOver = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM record WHERE (name IS NOT NULL AND name != '') OR (token_hash IS NOT NULL AND token_hash != '')
                        OR (kind IN ('chat_posted', 'question_asked') AND text != '')
                        OR (participant IS NOT NULL AND substr(participant, 1, 1) != 'x')
                    """) ?? 0
                guard leftOver > 0 else { return PurgeSummary(participants: 0, messages: 0, purged: false) }
                let ids = try String.fetchAll(db, sql: "SELECT DISTINCT participant FROM record WHERE participant IS NOT NULL")
                var taken = Set(ids)
                try db.execute(sql: "CREATE TEMP TABLE purge_map (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
                for id in ids {
                    var replacement: String
                    repeat { replacement = "x" + Room.randomID(length: 7, using: &random) } while !taken.insert(replacement).inserted
                    try db.execute(sql: "INSERT INTO purge_map (old, new) VALUES (?, ?)", arguments: [id, replacement])
                }
                try db.execute(sql: "UPDATE record SET participant = (SELECT new FROM purge_map WHERE old = participant) WHERE participant IS NOT NULL")
                if try db.tableExists("sealed_voter") {
                    try db.execute(sql: "UPDATE sealed_voter SET participant = (SELECT new FROM purge_map WHERE old = participant) WHERE participant IN (SELECT old FROM purge_map)")
                }
                try db.execute(sql: "DROP TABLE purge_map")
                try db.execute(sql: "UPDATE record SET name = '' WHERE name IS NOT NULL")
                try db.execute(sql: "UPDATE record SET token_hash = '' WHERE token_hash IS NOT NULL")
                let messages = try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE kind IN ('chat_posted', 'question_asked')") ?? 0
                try db.execute(sql: "UPDATE record SET text = '' WHERE kind IN ('chat_posted', 'question_asked')")
                return PurgeSummary(participants: ids.count, messages: messages, purged: true)
            }
            if summary.purged {
                try queue.vacuum()
                truncateLog(queue)
            }
            return summary
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }
}
