import ArgumentParser
import Foundation
import StellingStore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes results.csv, votes.csv, chat.csv, session.json and report.html from an event's database.")

    @Option(name: .long, help: "The event's SQLite database (the configuration's `database`).")
    var database: String

    @Option(name: .long, help: "The folder to write the exports into (made when missing).")
    var out: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("no database at \(database)")
        }
        do {
            let exporter = try Exporter(databasePath: database)
            try exporter.writeAll(to: out)
            print("\(out): \(Exporter.fileNames.joined(separator: ", ")) for \"\(exporter.title)\"")
        } catch {
            FileHandle.standardError.write(Data("stelling export: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
