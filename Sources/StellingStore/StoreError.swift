import StellingCore

/// GRDB has a `Record` class too; inside this module `Record` is always the core's.
typealias Record = StellingCore.Record
/// GRDB has a `Configuration` too; inside this module it is always the core's.
typealias Configuration = StellingCore.Configuration

/// Why the store or an export could not do its work.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The folder for the database could not be made.
    case cannotCreateFolder(path: String, reason: String)
    /// SQLite refused: opening, migrating, reading or writing.
    case database(String)
    /// A stored record cannot be read back.
    case corruptRecord(sequence: UInt64, reason: String)
    /// The file is not a Stelling event database.
    case notAnEventDatabase(String)
    /// An export could not be written to a file.
    case cannotWrite(path: String, reason: String)
    /// No participant has this id (erasure).
    case unknownParticipant(String)

    /// The error in words, for logs.
    public var description: String {
        switch self {
        case let .cannotCreateFolder(path, reason): "cannot create the folder \(path): \(reason)"
        case let .database(message): "database: \(message)"
        case let .corruptRecord(sequence, reason): "record \(sequence) cannot be read: \(reason)"
        case let .notAnEventDatabase(reason): "not a Stelling event database: \(reason)"
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        case let .unknownParticipant(id): "there is no participant with the id \(id)"
        }
    }
}
