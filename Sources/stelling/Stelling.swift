import ArgumentParser
import Foundation
import Logging
import StellingCore
import StellingServer

/// The command line: `stelling serve`, `stelling check-config`, `stelling export`, `stelling purge`,
/// `stelling erase`, `stelling analyse`, `stelling load`.
@main
struct Stelling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stelling",
        abstract: "A self-hosted server for online panel discussions: chat and votes on statements.",
        subcommands: [Serve.self, CheckConfig.self, Export.self, Archive.self, Purge.self, Erase.self, Analyse.self, Load.self])
}

/// Reads a configuration file, printing every mistake (never a stack trace) and exiting 2 on one.
func loadConfiguration(_ path: String) throws -> ConfigurationFile.Contents {
    do {
        return try ConfigurationFile.load(path: path, environment: ProcessInfo.processInfo.environment)
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(2)
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Checks a configuration file without starting the server.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        let contents = try loadConfiguration(file)
        let configuration = contents.room
        let groups = configuration.groups.isEmpty ? "no groups" : "\(configuration.groups.count) groups"
        print("\(file): ok: \"\(configuration.title)\", \(configuration.statements.count) statements, \(groups), port \(contents.server.port), database \(contents.server.database)")
        if configuration.moderatorKey == nil {
            print("no moderator key is set: the server will make one at start and print the moderator URL")
        }
        if configuration.retentionDays == nil {
            print("warning: retention_days is not set: names, chat texts and who voted what are kept until you run `stelling purge` (docs/PRIVACY.md)")
        }
    }
}
