import ArgumentParser
import Foundation
import Logging
import StellingCore
import StellingServer
import StellingLWS
import StellingStore

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serves the event: web pages, WebSocket (stelling.v1), /healthz, /metrics and exports.")

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String

    @Option(name: .long, help: "The TCP port (overrides the configuration; 0 picks a free one).")
    var port: Int?

    @Option(name: .long, help: "The address to listen on (overrides the configuration).")
    var host: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(name: .long, help: "Adds the WebSocket echo endpoint /echo for the Autobahn test suite (loopback hosts only; see docs/CONFORMANCE.md).")
    var echoConformance = false

    func run() throws {
        let contents = try loadConfiguration(config)
        var configuration = contents.room
        var settings = contents.server
        if let port { settings.port = port }
        if let host { settings.host = host }
        guard (0...65535).contains(settings.port) else {
            throw ValidationError("--port must be between 0 and 65535")
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if echoConformance && !isLoopbackHost(settings.host) {
            throw ValidationError("--echo-conformance needs a loopback host (127.0.0.1, ::1 or localhost), not \(settings.host); add --host 127.0.0.1")
        }
        let logger = makeLogger(level: level)
        var generatedKey = false
        if configuration.moderatorKey == nil, settings.cluster != nil {
            throw ValidationError("a cluster node needs the moderator key set (moderator_key or \(ConfigurationFile.moderatorKeyVariable)), the same on every node of the event")
        }
        if configuration.moderatorKey == nil {
            var random = SystemRandomNumberGenerator()
            configuration.moderatorKey = ConfigurationFile.generateModeratorKey(using: &random)
            generatedKey = true
        }
        let running = try startServer(configuration: configuration, settings: settings, logger: logger, echoConformance: echoConformance)
        let shownHost = ["0.0.0.0", "::", ""].contains(settings.host) ? "localhost" : settings.host
        let base = "\(settings.tlsCertificate == nil ? "http" : "https")://\(shownHost):\(running.port)"
        var metadata: Logger.Metadata = [
            "server.address": "\(settings.host):\(running.port)", "config.path": "\(config)",
            "store.path": "\(settings.database)", "url.participants": "\(base)/", "url.screen": "\(base)/screen",
        ]
        if let publicURL = configuration.publicURL { metadata["url.public"] = "\(publicURL)" }
        metadata["url.moderator"] = "\(base)/moderator"
        if generatedKey {
            // Never in the log (a journal keeps logs for months): on the terminal when there is
            // one, else in a file only the owner can read. The key sits in the URL's fragment,
            // which browsers never send to a server.
            let console = "\(base)/moderator#key=\(configuration.moderatorKey!)"
            if isatty(STDOUT_FILENO) != 0 {
                print("Moderator console (this key was made for this run): \(console)")
            } else {
                let path = settings.database + ".moderator-key"
                do {
                    try PrivateFiles.write(Array("\(configuration.moderatorKey!)\n\(console)\n".utf8), to: path)
                    metadata["moderator.key_file"] = "\(path)"
                } catch {
                    logger.critical("the generated moderator key could not be written", metadata: ["error": "\(error)"])
                    running.stop()
                    running.waitUntilStopped()
                    throw ExitCode.failure
                }
            }
        }
        logger.info("stelling started", metadata: metadata)
        running.waitUntilStopped()
        logger.info("stelling stopped")
    }
}

/// A logger writing to standard error at `level`.
func makeLogger(level: Logger.Level) -> Logger {
    var logger = Logger(label: "stelling") { label in StreamLogHandler.standardError(label: label) }
    logger.logLevel = level
    return logger
}
