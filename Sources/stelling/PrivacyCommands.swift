import ArgumentParser
import Foundation
import StellingCore
import StellingStore

struct Purge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Removes the personal data of an event (names, tokens, chat texts, ids) and keeps its results exactly.",
        discussion: "Stop the server first. Without --older-than the event is purged now; with it, only when its last activity is at least that many days ago (docs/PRIVACY.md).")

    @Option(name: .long, help: "The event's SQLite database (the configuration's `database`).")
    var database: String

    @Option(name: .long, help: "Purge only when the event's last activity is at least this many days ago.")
    var olderThan: Int?

    func validate() throws {
        if let olderThan, olderThan < 0 { throw ValidationError("--older-than must be 0 or more days") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: database) else { throw ValidationError("no database at \(database)") }
        var random = SystemRandomNumberGenerator()
        do {
            let summary = try Privacy.purge(databasePath: database, olderThanDays: olderThan, now: Instant.now(), random: &random)
            if summary.purged {
                print("\(database): purged: \(summary.participants) ids replaced, names and tokens removed, \(summary.messages) chat texts emptied; results kept")
            } else if let olderThan {
                print("\(database): nothing purged: the event is not older than \(olderThan) days, or holds no personal data")
            } else {
                print("\(database): nothing purged: it holds no personal data")
            }
        } catch {
            FileHandle.standardError.write(Data("stelling purge: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Erase: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erases one participant (GDPR art. 17): name, token, chat texts and the link from their votes; counts stay.",
        discussion: "Stop the server first; on a running server the moderator console erases live (docs/PRIVACY.md).")

    @Option(name: .long, help: "The event's SQLite database (the configuration's `database`).")
    var database: String

    @Option(name: .long, help: "The participant's id, as on their page and in the moderator console (e.g. p7Hq2xK).")
    var participant: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: database) else { throw ValidationError("no database at \(database)") }
        var random = SystemRandomNumberGenerator()
        do {
            let replacement = try Privacy.erase(databasePath: database, participant: participant, at: Instant.now(), random: &random)
            print("\(database): \(participant) erased; their votes still count under \(replacement), tied to no one")
        } catch {
            FileHandle.standardError.write(Data("stelling erase: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension Instant {
    /// The wall clock now, to the millisecond (the command line's clock; the core has none).
    static func now() -> Instant {
        Instant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
