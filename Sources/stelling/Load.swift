import ArgumentParser
import Foundation
import StellingLoad
import StellingLWS

/// `stelling load`: drives a running server with thousands of WebSocket clients and reports figures.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Puts load on a running server: join, chat, votes or a whole event; prints figures and checks.",
        discussion: """
            Scenarios:
              join   N participants connect and join as fast as the server allows, then stay --hold seconds.
              chat   N participants, --senders of them chatting at --rate messages a second for --duration seconds.
              votes  N participants and a moderator: next, everyone votes at once, close; the tally must equal the acks.
              event  a seminar in --duration seconds: joins, chat, five statements with votes, reveals, late joiners, leavers.
              questions  --senders participants ask (default a tenth, at most 100), then everyone upvotes one question
                     in ten bursts over --duration seconds (default 10); every upvote acked, counts exact, upvotes latency.
            Exits 1 when something was lost or a check failed, 2 on a usage error or a timeout.
            """)

    @Option(name: .long, help: "The server's WebSocket endpoint, ws://HOST:PORT/ws (loopback); repeat it for a cluster's nodes (clients go round-robin, the moderator to the first).")
    var url: [String]

    @Option(name: .long, help: "The moderator key (votes, event); the environment variable STELLING_MODERATOR_KEY works too.")
    var moderatorKey: String?

    @Argument(help: "The scenario: join, chat, votes, event or questions.")
    var scenario: String

    @Option(name: .long, help: "Participants.")
    var clients: Int = 200

    @Option(name: .long, help: "Participants that chat (default: enough that each sends at most one message every 2 s); questions: that ask.")
    var senders: Int?

    @Option(name: .long, help: "Chat messages a second, all senders together.")
    var rate: Double = 20

    @Option(name: .long, help: "Seconds of chat (chat; default 10), of upvoting (questions; default 10) or of the whole event (event; default 30).")
    var duration: Double?

    @Option(name: .long, help: "The most seconds the scenario may take before it fails.")
    var timeout: Double = 120

    @Option(name: .long, help: "Seconds the join scenario keeps everyone connected after the last welcome.")
    var hold: Double = 2

    @Option(name: .long, help: "The most connections between connect and welcome at once.")
    var concurrency: Int = 1000

    @Option(name: .long, help: "The shortest service pass of the client thread in microseconds: shorter ones nap (fewer polls over thousands of sockets).")
    var nap: UInt32 = 1000

    @Option(name: .long, help: "Planted camps in the event's votes (0 to 5; 0: no structure), for the opinion analysis.")
    var camps: Int = 0

    @Option(name: .long, help: "The server's process id: its memory and CPU time are read from /proc; repeat it for a cluster's nodes (summed, and each one's CPU).")
    var serverPid: [Int32] = []

    @Option(name: .long, help: "Local addresses to connect from, e.g. 127.0.0.1-127.0.0.8 or 127.0.0.1,127.0.0.2.")
    var sourceAddresses: String?

    @Option(name: .long, help: "Retry joins refused with rate_limited: page (the web page's jittered backoff) or immediate (a flood). Default: fail them.")
    var retryJoins: String?

    @Option(name: .long, help: "Seconds over which the joins start, evenly (a rush at the hour). Default: all at once.")
    var spread: Double = 0

    @Flag(name: .long, help: "Print one line of JSON with every figure instead of the summary.")
    var json = false

    @Flag(name: .long, help: "chat: a flood past the server's chat budget; refusals must all be rate_limited and listeners' p99 stay under 250 ms.")
    var flood = false

    @Flag(name: .long, help: "Allow a --url that is not a loopback address.")
    var allowRemote = false

    @Flag(name: .long, help: "No progress lines on standard error.")
    var quiet = false

    func run() throws {
        guard let kind = LoadScenario(rawValue: scenario) else {
            throw ValidationError("the scenario must be one of: \(LoadScenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let first = url.first else { throw ValidationError("--url is required") }
        var options = LoadOptions(url: first)
        options.otherURLs = Array(url.dropFirst())
        let environmentKey = ProcessInfo.processInfo.environment["STELLING_MODERATOR_KEY"]
        options.moderatorKey = moderatorKey ?? (environmentKey?.isEmpty == false ? environmentKey : nil)
        options.clients = clients
        options.camps = camps
        options.senders = senders
        options.rate = rate
        options.duration = duration
        options.timeout = timeout
        options.hold = hold
        options.concurrency = concurrency
        options.serverPID = serverPid.first
        options.otherServerPIDs = Array(serverPid.dropFirst())
        options.allowRemote = allowRemote
        options.flood = flood
        options.napMicroseconds = nap
        options.spread = spread
        if let retryJoins {
            guard let retry = JoinRetry(rawValue: retryJoins) else {
                throw ValidationError("--retry-joins must be one of: \(JoinRetry.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.joinRetry = retry
        }
        if let sourceAddresses {
            guard let addresses = LoadOptions.parseAddresses(sourceAddresses) else {
                throw ValidationError("--source-addresses must be IPv4 addresses like 127.0.0.1-127.0.0.8 or a comma-separated list")
            }
            options.sourceAddresses = addresses
        }
        options.progress = quiet ? nil : Progress()
        signal(SIGPIPE, SIG_IGN)
        WebSocketClientPool.quietLibraryLog()
        let report: LoadReport
        do {
            report = try kind.run(options)
        } catch {
            FileHandle.standardError.write(Data("stelling load \(scenario): \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        print(json ? report.json() : report.text())
        if !report.passed { throw ExitCode(1) }
    }
}
