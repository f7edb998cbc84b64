import ArgumentParser
import Foundation
import StellingStore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes results.csv, votes.csv, chat.csv, session.json and report.html from an event's database.")

    @Option(name: .long, help: "The event's SQLite database (the configuration's `database`).")
    var database: String?

    @Option(name: .long, help: "Instead of --database: a configuration file; for a cluster node, the event is read from Redis (as `stelling archive` does).")
    var config: String?

    @Option(name: .long, help: "The folder to write the exports into (made when missing).")
    var out: String

    @Flag(name: .long, help: "Writes participants' names into chat.csv, questions.csv, session.json and report.html (without it: ids only).")
    var withNames = false

    func run() throws {
        var database = self.database ?? ""
        var temporary: URL?
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        switch (self.database, config) {
        case (nil, nil), (.some, .some):
            throw ValidationError("give either --database or --config")
        case let (nil, config?):
            let contents = try loadConfiguration(config)
            database = contents.server.database
            if let cluster = contents.server.cluster {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-export-\(UUID().uuidString)")
                temporary = folder
                database = folder.appendingPathComponent("event.sqlite").path
                do {
                    _ = try archiveEvent(cluster, configuration: contents.room, to: database)
                } catch {
                    FileHandle.standardError.write(Data("stelling export: \(error)\n".utf8))
                    throw ExitCode(1)
                }
            }
        case (.some, nil):
            break
        }
        guard FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("no database at \(database)")
        }
        do {
            let exporter = try Exporter(databasePath: database, names: withNames)
            try exporter.writeAll(to: out)
            print("\(out): \(Exporter.fileNames.joined(separator: ", ")) for \"\(exporter.title)\", \(withNames ? "with names" : "without names")")
        } catch {
            FileHandle.standardError.write(Data("stelling export: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
