import Foundation
import StellingCore
import StellingLWS
import Yams

/// Reads the YAML configuration file (PROTOCOL.md, Configuration contract) into the room's
/// `Configuration` and the server's `ServerSettings`.
///
/// The composed YAML tree is walked by hand rather than decoded with `Codable`, so that
/// every mistake is reported with its key path, its line and a hint, and all mistakes
/// are reported at once. A key with no value (`port:` or `port: null`) counts as absent.
/// Texts are taken as written (so `time: 14:00` stays `14:00`), trimmed of white space.
public enum ConfigurationFile {
    /// The environment variable whose value, when set and not empty, wins over `moderator_key`.
    public static let moderatorKeyVariable = "STELLING_MODERATOR_KEY"
    /// What one file holds.
    public struct Contents: Equatable, Sendable {
        /// The room's rules.
        public var room: Configuration
        /// How this server listens, stores and admits connections.
        public var server: ServerSettings

        /// Makes the pair.
        public init(room: Configuration, server: ServerSettings = ServerSettings()) {
            self.room = room
            self.server = server
        }
    }

    /// The shortest moderator key accepted from the file or the environment.
    public static let minimumModeratorKeyLength = 16
    /// The placeholder the documentation shows (`change-me-to-a-long-random-key`): a key
    /// that contains it is refused, since it is public.
    public static let placeholderModeratorKey = "change-me"

    /// Why `key` may not be the moderator key, or nil when it may.
    public static func moderatorKeyProblem(_ key: String) -> String? {
        if key.lowercased().contains(placeholderModeratorKey) {
            return "the moderator key is the documentation's placeholder (\(placeholderModeratorKey)...)"
        }
        if key.unicodeScalars.count < minimumModeratorKeyLength {
            return "the moderator key is shorter than \(minimumModeratorKeyLength) characters"
        }
        return nil
    }
    /// The longest statement id.
    public static let maximumStatementIDLength = 32

    /// Reads and checks the file at `path`; a relative `database` is resolved against the file's folder.
    public static func load(path: String, environment: [String: String]) throws(ConfigurationError) -> Contents {
        let yaml = try read(path: path)
        var contents = try parse(yaml: yaml, environment: environment, file: path)
        contents.server.database = resolve(contents.server.database, againstFolderOf: path)
        contents.server.tlsCertificate = contents.server.tlsCertificate.map { resolve($0, againstFolderOf: path) }
        contents.server.tlsPrivateKey = contents.server.tlsPrivateKey.map { resolve($0, againstFolderOf: path) }
        contents.server.webRoot = contents.server.webRoot.map { resolve($0, againstFolderOf: path) }
        if let root = contents.server.webRoot, let problem = StaticFiles.webRootProblem(root) {
            throw ConfigurationError(file: path, problems: [
                ConfigurationProblem(kind: .invalidValue, path: "web_root", line: nil, message: problem,
                                     hint: "a web_root is only needed to serve pages of your own"),
            ])
        }
        return contents
    }

    /// Checks YAML text; a relative `database` (or TLS file) is left as written.
    public static func parse(yaml: String, environment: [String: String]) throws(ConfigurationError) -> Contents {
        try parse(yaml: yaml, environment: environment, file: nil)
    }

    /// Why `text` is not a usable `public_url` (an absolute http or https URL with a host, no
    /// query, fragment, credentials or white space), or `nil` when it is.
    public static func publicURLProblem(_ text: String) -> String? {
        guard let separator = text.range(of: "://") else { return "expected an http or https address" }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return "expected an http or https address" }
        let rest = text[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty, !authority.hasPrefix(":") else { return "the address has no host name" }
        guard !authority.contains("@") else { return "the address must not hold a user name or password" }
        guard !text.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) else {
            return "the address must not hold white space, a query (?) or a fragment (#)"
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return "write the address in ASCII (punycode for international names)"
        }
        return nil
    }

    /// Makes a strong moderator key: 32 URL-safe characters, 192 random bits.
    public static func generateModeratorKey(using generator: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".unicodeScalars)
        var key = String.UnicodeScalarView()
        for _ in 0..<32 {
            key.append(alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))])
        }
        return String(key)
    }

    // MARK: - Reading the file

    /// The file's text, or a problem saying why it cannot be had.
    static func read(path: String) throws(ConfigurationError) -> String {
        func fail(_ message: String, _ hint: String?) -> ConfigurationError {
            ConfigurationError(file: path, problems: [
                ConfigurationProblem(kind: .unreadableFile, path: "", line: nil, message: message, hint: hint),
            ])
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw fail("no such file", "check the path of the configuration file")
        }
        guard !isFolder.boolValue else {
            throw fail("this is a folder, not a file", "give the path of the YAML file itself, e.g. config/seminar.yaml")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail("the file cannot be read", "check that the server's user may read it")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail("the file is not UTF-8 text", "save it as UTF-8")
        }
        return text
    }

    /// `database` taken relative to the folder of the configuration file at `path`, unless absolute.
    static func resolve(_ database: String, againstFolderOf path: String) -> String {
        guard !database.hasPrefix("/"), let slash = path.lastIndex(of: "/") else { return database }
        let folder = path[...slash]
        return folder + database
    }

    // MARK: - Checking the text

    /// Checks YAML text, naming `file` in the problems.
    static func parse(yaml: String, environment: [String: String], file: String?) throws(ConfigurationError) -> Contents {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(file: file, problems: [syntaxProblem(error, yaml: yaml)])
        }
        var checker = Checker()
        let contents = checker.configuration(from: root, environment: environment)
        if let contents, checker.problems.isEmpty { return contents }
        throw ConfigurationError(file: file, problems: checker.problems)
    }

    /// A Yams error as a problem with line, column and hint.
    static func syntaxProblem(_ error: any Error, yaml: String) -> ConfigurationProblem {
        guard let error = error as? YamlError else {
            return ConfigurationProblem(kind: .syntax, path: "", line: nil, message: "the YAML cannot be read: \(error)")
        }
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "this is not valid YAML: \(problem)"
            if let context {
                message += " (\(context.text), from line \(context.mark.line))"
            }
            return ConfigurationProblem(
                kind: .syntax, path: "", line: mark.line, column: mark.column, message: message,
                hint: syntaxHint(problem: problem, mark: mark, yaml: yaml))
        case let .reader(problem, offset, _, _):
            var line: Int?
            var column: Int?
            if let offset {
                let before = yaml.prefix(offset)
                line = before.count(where: \.isNewline) + 1
                column = before.split(separator: "\n", omittingEmptySubsequences: false).last.map { $0.count + 1 }
            }
            return ConfigurationProblem(
                kind: .syntax, path: "", line: line, column: column,
                message: "this is not valid YAML text: \(problem)",
                hint: "remove control characters; the file must be plain UTF-8 text")
        case let .duplicatedKeysInMapping(duplicates, context):
            let key = duplicates.first ?? "?"
            let first = context.mark
            let second = secondOccurrence(of: key, after: first, in: yaml)
            return ConfigurationProblem(
                kind: .syntax, path: key, line: second?.line ?? first.line, column: second?.column ?? first.column,
                message: "the key '\(key)' appears twice in the same mapping",
                hint: second == nil ? "keep only one of them" : "keep only one of them; the first is on line \(first.line)")
        default:
            return ConfigurationProblem(kind: .syntax, path: "", line: nil, message: "the YAML cannot be read: \(error)")
        }
    }

    /// A hint for libyaml's usual complaints, which name the symptom rather than the cause.
    static func syntaxHint(problem: String, mark: Mark, yaml: String) -> String {
        let line = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            .dropFirst(mark.line - 1).first.map(String.init) ?? ""
        if problem.contains("mapping values are not allowed") {
            return "a text that contains ': ' must be put in quotes, e.g. text: \"Stelling: ...\""
        }
        if problem.contains("cannot start any token") {
            if line.contains("\t") { return "indent with spaces, not tabs" }
            return "put a text that starts with a special character (` @ % & * ! | >) in quotes"
        }
        if problem.contains("undefined alias") {
            return "a value starting with * is read as a YAML alias; put it in quotes"
        }
        if problem.contains("end of stream") || problem.contains("escape") || problem.contains("quoted scalar") {
            return "check the quotes: every \" or ' that opens a text must close it"
        }
        if problem.contains("another document") {
            return "the file must hold one YAML document; remove the extra '---'"
        }
        if line.contains("\t") { return "indent with spaces, not tabs" }
        return "check the indentation (keys at one level line up) and put texts with ':' or '#' in quotes"
    }

    /// Where a duplicated key appears for the second time: the next line that starts it at the same column.
    static func secondOccurrence(of key: String, after first: Mark, in yaml: String) -> (line: Int, column: Int)? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line < lines.count else { return nil }
        for index in first.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let indent = first.column - 1
            guard scalars.count > indent else { continue }
            let lead = String(String.UnicodeScalarView(scalars[..<indent]))
            guard lead.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            let rest = String(String.UnicodeScalarView(scalars[indent...]))
            if rest.hasPrefix(key), rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                return (index + 1, first.column)
            }
        }
        return nil
    }
}

// MARK: - The checker

/// The keys of one mapping, found by name.
private struct Fields {
    let path: String
    let line: Int?
    let nodes: [String: Node]
    /// Known keys that an unknown key was taken for; their absence is not reported again.
    let misspelled: Set<String>

    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`, or `nil` when it is absent or null.
    subscript(key: String) -> Node? {
        guard let node = nodes[key], !node.isNull else { return nil }
        return node
    }
}

private extension Node {
    /// `~`, `null` or nothing, written plain (a quoted `''` is text).
    var isNull: Bool { null != nil }

    var line: Int? { mark?.line }

    /// How the node looks in a message: `'abc'`, `a list`, `nothing`.
    var shown: String {
        switch self {
        case let .scalar(scalar):
            if isNull { return "nothing" }
            let text = scalar.string
            let short = text.unicodeScalars.count > 40
                ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(40))) + "…"
                : text
            return "'\(short)'"
        case .mapping: return "a mapping (key: value pairs)"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

private let topLevelKeys = [
    "title", "moderator_key", "host", "port", "database", "groups", "programme", "statements",
    "keepalive_seconds", "tally_interval_ms", "allowed_origins", "language", "web_root", "limits", "tls",
    "retention_days", "privacy",
    "questions", "public_url",
    "event_loop",
    "trusted_proxies",
    "cluster",
]
private let clusterKeys = ["redis", "event", "node", "reuse_port"]
private let privacyKeys = ["ballot", "min_group_size"]
private let limitKeys = [
    "message_bytes", "chat_chars", "chat_burst", "chat_per_second", "vote_burst", "votes_per_second",
    "join_burst", "joins_per_second", "join_burst_total", "joins_per_second_total", "store_backlog_records", "outbound_queue_bytes",
    "max_connections", "max_connections_per_address",
    "question_burst", "questions_per_minute", "question_chars", "chat_budget_per_second", "chat_fanout_per_second",
]
private let questionKeys = ["moderated", "open"]
private let tlsKeys = ["certificate", "private_key"]
private let statementHint = "each statement is a mapping like `- id: s1` with `text: ...` on the next line"
private let programmeHint = "each programme line is a mapping like `- time: \"14:00\"` with `item: Welkom` on the next line"

/// Walks the composed tree, collecting problems instead of stopping at the first.
private struct Checker {
    var problems: [ConfigurationProblem] = []

    mutating func report(_ kind: ConfigurationProblem.Kind, _ path: String, _ line: Int?,
                         _ message: String, hint: String? = nil) {
        problems.append(ConfigurationProblem(kind: kind, path: path, line: line, message: message, hint: hint))
    }

    mutating func configuration(from root: Node?, environment: [String: String]) -> ConfigurationFile.Contents? {
        guard let root, !root.isNull else {
            report(.missingKey, "title", nil, "the configuration is empty",
                   hint: "it needs at least `title: ...`; see config/example-en.yaml")
            return nil
        }
        guard let top = mapping(root, path: "", known: topLevelKeys,
                                hint: "the file must be a mapping of keys such as `title: ...`; see config/example-en.yaml")
        else { return nil }

        var configuration = Configuration(title: "")
        var server = ServerSettings()
        if let node = top["limits"], let fields = mapping(node, path: "limits", known: limitKeys) {
            var limits = Limits()
            positive(fields, "message_bytes", into: &limits.messageBytes)
            positive(fields, "chat_chars", into: &limits.chatChars)
            positive(fields, "chat_burst", into: &limits.chatBurst)
            positiveRate(fields, "chat_per_second", into: &limits.chatPerSecond)
            positive(fields, "vote_burst", into: &limits.voteBurst)
            positiveRate(fields, "votes_per_second", into: &limits.votesPerSecond)
            positive(fields, "join_burst", into: &limits.joinBurst)
            positiveRate(fields, "joins_per_second", into: &limits.joinsPerSecond)
            positive(fields, "join_burst_total", into: &limits.joinBurstTotal)
            positiveRate(fields, "joins_per_second_total", into: &limits.joinsPerSecondTotal)
            positive(fields, "store_backlog_records", into: &limits.storeBacklogRecords)
            positive(fields, "outbound_queue_bytes", into: &limits.outboundQueueBytes)
            positive(fields, "max_connections", into: &server.maxConnections)
            positive(fields, "max_connections_per_address", into: &server.maxConnectionsPerAddress)
            positive(fields, "question_burst", into: &limits.questionBurst)
            positiveRate(fields, "questions_per_minute", into: &limits.questionsPerMinute)
            positive(fields, "question_chars", into: &limits.questionChars)
            positiveRate(fields, "chat_budget_per_second", into: &limits.chatBudgetPerSecond)
            positiveRate(fields, "chat_fanout_per_second", into: &limits.chatFanoutPerSecond)
            configuration.limits = limits
        }
        if let node = top["questions"], let fields = mapping(node, path: "questions", known: questionKeys,
                                                              hint: "e.g. `questions:` with `moderated: true` on the next line, indented") {
            if let node = fields["moderated"], let value = flag(node, path: fields.path("moderated")) {
                configuration.questionsModerated = value
            }
            if let node = fields["open"], let value = flag(node, path: fields.path("open")) {
                configuration.questionsOpen = value
            }
        }
        if let node = top["public_url"], let url = text(node, path: "public_url") {
            if let problem = ConfigurationFile.publicURLProblem(url) {
                report(.invalidValue, "public_url", node.line, "\(problem), got \(node.shown)",
                       hint: "write the address participants open, e.g. `public_url: https://seminar.example.nl/`")
            } else {
                configuration.publicURL = url
            }
        }
        if let node = top["tls"], let fields = mapping(node, path: "tls", known: tlsKeys) {
            tls(fields, into: &server)
        }
        if let node = top["retention_days"],
           let days = wholeNumber(node, path: "retention_days", in: 1...36_500, rule: "between 1 and 36500", example: 90) {
            configuration.retentionDays = days
        }
        if let node = top["privacy"], let fields = mapping(node, path: "privacy", known: privacyKeys) {
            if let node = fields["ballot"], let ballot = text(node, path: fields.path("ballot")) {
                if let known = PrivacySettings.Ballot(rawValue: ballot) {
                    configuration.privacy.ballot = known
                } else {
                    report(.invalidValue, fields.path("ballot"), node.line, "expected pseudonymous or secret, got \(node.shown)",
                           hint: "secret keeps only the counts once voting on a statement closes (docs/PRIVACY.md)")
                }
            }
            if let node = fields["min_group_size"],
               let size = wholeNumber(node, path: fields.path("min_group_size"), in: 1...1000, rule: "between 1 and 1000", example: 5) {
                configuration.privacy.minGroupSize = size
            }
        }

        if let node = top["title"] {
            if let title = text(node, path: "title") { configuration.title = title }
        } else if !top.misspelled.contains("title") {
            report(.missingKey, "title", top.line, "the title is missing",
                   hint: "add a line such as `title: Leren samen werken aan opgaven`")
        }

        configuration.moderatorKey = moderatorKey(top, environment: environment)
        if let node = top["host"], let host = text(node, path: "host") { server.host = host }
        if let node = top["port"],
           let port = wholeNumber(node, path: "port", in: 0...65535, rule: "between 0 and 65535", example: 8080) {
            server.port = port
        }
        if let node = top["database"], let database = text(node, path: "database") {
            server.database = database
        }
        if let node = top["web_root"], let webRoot = text(node, path: "web_root") {
            server.webRoot = webRoot
        }
        if let node = top["keepalive_seconds"],
           let seconds = wholeNumber(node, path: "keepalive_seconds", in: 1...Int.max, rule: "at least 1", example: 60) {
            configuration.keepaliveSeconds = seconds
        }
        if let node = top["tally_interval_ms"],
           let milliseconds = wholeNumber(node, path: "tally_interval_ms", in: 10...Int.max, rule: "at least 10", example: 250) {
            configuration.tallyIntervalMilliseconds = milliseconds
        }
        if let node = top["language"], let language = text(node, path: "language") {
            if ["nl", "en"].contains(language) {
                configuration.language = language
            } else {
                report(.invalidValue, "language", node.line, "expected nl or en, got \(node.shown)",
                       hint: "the web pages exist in Dutch (nl) and English (en)")
            }
        }
        if let node = top["event_loop"], let name = text(node, path: "event_loop") {
            if let eventLoop = EventLoop(rawValue: name) {
                server.eventLoop = eventLoop
            } else {
                report(.invalidValue, "event_loop", node.line, "expected poll, libev or libuv, got \(node.shown)",
                       hint: "poll is libwebsockets' own loop; libev and libuv use epoll (docs/BENCHMARKS.md)")
            }
        }
        if let node = top["cluster"], let fields = mapping(node, path: "cluster", known: clusterKeys) {
            server.cluster = cluster(fields)
        }
        if let node = top["groups"] { configuration.groups = groups(node) }
        if let node = top["programme"] { configuration.programme = programme(node) }
        if let node = top["allowed_origins"] { server.allowedOrigins = origins(node) }
        if let node = top["trusted_proxies"] { server.trustedProxies = trustedProxies(node) }
        if let node = top["statements"] {
            configuration.statements = statements(node, maximumLength: configuration.limits.chatChars)
        }
        return ConfigurationFile.Contents(room: configuration, server: server)
    }

    // MARK: Sections

    mutating func moderatorKey(_ top: Fields, environment: [String: String]) -> String? {
        let hint = "use a long random key, or leave it out so that the server makes one at start"
        if let key = environment[ConfigurationFile.moderatorKeyVariable], !key.isEmpty {
            if let problem = ConfigurationFile.moderatorKeyProblem(key) {
                report(.invalidValue, ConfigurationFile.moderatorKeyVariable, nil,
                       problem.replacingOccurrences(of: "the moderator key", with: "the moderator key in the environment"),
                       hint: hint)
            }
            return key
        }
        guard let node = top["moderator_key"], let key = text(node, path: "moderator_key") else { return nil }
        if let problem = ConfigurationFile.moderatorKeyProblem(key) {
            report(.invalidValue, "moderator_key", node.line, problem, hint: hint)
        }
        return key
    }

    /// The `cluster` section: `redis`, `event` and `node` are required, `reuse_port` is not.
    mutating func cluster(_ fields: Fields) -> ClusterSettings? {
        let redis = required(fields, "redis", what: "Redis address", hint: "e.g. `redis: redis://127.0.0.1:6379/0`")
        if let redis, let problem = ClusterSettings.redisProblem(redis) {
            report(.invalidValue, fields.path("redis"), fields["redis"]?.line, problem,
                   hint: "write redis://[:password@]host:port[/db], e.g. redis://127.0.0.1:6379/0")
        }
        let event = required(fields, "event", what: "event name", hint: "e.g. `event: pbl-nsob-2021-01-15`, the same on every node")
        if let event, let problem = ClusterSettings.nameProblem(event, longest: 64) {
            report(.invalidValue, fields.path("event"), fields["event"]?.line, "the event name \(problem)", hint: "e.g. `event: pbl-nsob-2021-01-15`")
        }
        let node = required(fields, "node", what: "node name", hint: "e.g. `node: a`, different on every node")
        if let node, let problem = ClusterSettings.nameProblem(node, longest: 32) {
            report(.invalidValue, fields.path("node"), fields["node"]?.line, "the node name \(problem)", hint: "e.g. `node: a`")
        }
        var reusePort = false
        if let value = fields["reuse_port"], let flag = flag(value, path: fields.path("reuse_port")) { reusePort = flag }
        guard let redis, let event, let node else { return nil }
        return ClusterSettings(redis: redis, event: event, node: node, reusePort: reusePort)
    }

    /// `tls.certificate` and `tls.private_key`: both or neither.
    mutating func tls(_ fields: Fields, into server: inout ServerSettings) {
        let certificate = fields["certificate"].flatMap { text($0, path: fields.path("certificate")) }
        let key = fields["private_key"].flatMap { text($0, path: fields.path("private_key")) }
        let hint = "give both, e.g. `certificate: tls/fullchain.pem` and `private_key: tls/privkey.pem`, or remove `tls:`"
        if certificate != nil && key == nil && fields["private_key"] == nil && !fields.misspelled.contains("private_key") {
            report(.missingKey, fields.path("private_key"), fields.line, "the TLS private key is missing", hint: hint)
        }
        if key != nil && certificate == nil && fields["certificate"] == nil && !fields.misspelled.contains("certificate") {
            report(.missingKey, fields.path("certificate"), fields.line, "the TLS certificate is missing", hint: hint)
        }
        if let certificate, let key {
            server.tlsCertificate = certificate
            server.tlsPrivateKey = key
        }
    }

    mutating func groups(_ node: Node) -> [String] {
        guard let items = list(node, path: "groups", example: "groups: [Rijk, Provincie, Gemeente]") else { return [] }
        var groups: [String] = []
        var seen: [String: Int?] = [:]
        for (index, item) in items.enumerated() {
            let path = "groups[\(index)]"
            guard let name = text(item, path: path) else { continue }
            if let line = seen[name.lowercased()] {
                report(.duplicate, path, item.line, "the group '\(name)' is listed twice",
                       hint: line.map { "it is already listed on line \($0); remove one" } ?? "remove one")
                continue
            }
            seen[name.lowercased()] = item.line
            groups.append(name)
        }
        return groups
    }

    mutating func programme(_ node: Node) -> [ProgrammeItem] {
        guard let items = list(node, path: "programme", example: "programme: with lines like `- time: \"14:00\"`")
        else { return [] }
        var programme: [ProgrammeItem] = []
        for (index, item) in items.enumerated() {
            guard let fields = mapping(item, path: "programme[\(index)]", known: ["time", "item"], hint: programmeHint)
            else { continue }
            let time = required(fields, "time", what: "time", hint: programmeHint)
            let what = required(fields, "item", what: "item", hint: programmeHint)
            if let time, let what { programme.append(ProgrammeItem(time: time, item: what)) }
        }
        return programme
    }

    mutating func origins(_ node: Node) -> [String] {
        guard let items = list(node, path: "allowed_origins", example: "allowed_origins: [\"https://stelling.example.nl\"]")
        else { return [] }
        var origins: [String] = []
        for (index, item) in items.enumerated() {
            let path = "allowed_origins[\(index)]"
            guard let origin = text(item, path: path) else { continue }
            let hint = "an origin is scheme://host[:port] without a path, e.g. https://stelling.example.nl"
            guard let separator = origin.range(of: "://"),
                  ["http", "https"].contains(origin[..<separator.lowerBound].lowercased()),
                  !origin[separator.upperBound...].isEmpty
            else {
                report(.invalidValue, path, item.line, "expected an origin such as https://host, got \(item.shown)", hint: hint)
                continue
            }
            if origin[separator.upperBound...].contains("/") {
                report(.invalidValue, path, item.line, "an origin has no path, got \(item.shown)",
                       hint: origin.hasSuffix("/") ? "remove the trailing /" : hint)
                continue
            }
            origins.append(origin)
        }
        return origins
    }

    /// `trusted_proxies`: addresses and CIDR ranges; `[]` trusts nobody.
    mutating func trustedProxies(_ node: Node) -> [String] {
        guard let items = list(node, path: "trusted_proxies", example: "trusted_proxies: [127.0.0.1, 10.0.0.0/8]")
        else { return [] }
        var ranges: [String] = []
        for (index, item) in items.enumerated() {
            let path = "trusted_proxies[\(index)]"
            guard let entry = text(item, path: path) else { continue }
            guard AddressRange(entry.strippingBlanks()) != nil else {
                report(.invalidValue, path, item.line, "expected an IP address or CIDR range, got \(item.shown)",
                       hint: "for example 127.0.0.1, 10.0.0.0/8, ::1 or fd00::/8")
                continue
            }
            ranges.append(entry.strippingBlanks())
        }
        return ranges
    }

    mutating func statements(_ node: Node, maximumLength: Int) -> [StatementSpec] {
        guard let items = list(node, path: "statements", example: "statements: with lines like `- id: s1`")
        else { return [] }
        var statements: [StatementSpec] = []
        var seen: [String: Int?] = [:]
        let maximumID = ConfigurationFile.maximumStatementIDLength
        for (index, item) in items.enumerated() {
            let path = "statements[\(index)]"
            guard let fields = mapping(item, path: path, known: ["id", "text"], hint: statementHint) else { continue }
            var id = required(fields, "id", what: "id", hint: statementHint)
            if let given = id, let node = fields["id"] {
                let allowed = given.unicodeScalars.allSatisfy {
                    ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "_"
                }
                if !allowed || given.unicodeScalars.count > maximumID {
                    report(.invalidValue, fields.path("id"), node.line, "\(node.shown) is not a valid statement id",
                           hint: "use at most \(maximumID) letters, digits, - or _, e.g. s1")
                    id = nil
                } else if let line = seen[given] {
                    report(.duplicate, fields.path("id"), node.line, "the statement id '\(given)' is used twice",
                           hint: (line.map { "it is already used on line \($0)" } ?? "it is already used")
                               + "; every statement needs its own id")
                    id = nil
                } else {
                    seen[given] = node.line
                }
            }
            var text = required(fields, "text", what: "text", hint: statementHint)
            if let given = text, let node = fields["text"] {
                let length = given.unicodeScalars.count
                if length > maximumLength {
                    report(.invalidValue, fields.path("text"), node.line,
                           "the text is \(length) characters long, more than the \(maximumLength) allowed",
                           hint: "shorten the statement or raise limits.chat_chars")
                    text = nil
                }
            }
            if let id, let text { statements.append(StatementSpec(id: id, text: text)) }
        }
        return statements
    }

    // MARK: Values

    /// A mapping's keys, reporting keys that are not in `known`.
    mutating func mapping(_ node: Node, path: String, known: [String], hint: String? = nil) -> Fields? {
        guard case let .mapping(mapping) = node else {
            let what = path.isEmpty ? " for the configuration" : ""
            report(.wrongType, path, node.line, "expected a mapping (key: value pairs)\(what), got \(node.shown)",
                   hint: hint)
            return nil
        }
        var nodes: [String: Node] = [:]
        var misspelled: Set<String> = []
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode else {
                report(.unknownKey, path, keyNode.line, "a key must be a plain name, got \(keyNode.shown)")
                continue
            }
            let key = scalar.string
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if known.contains(key) {
                nodes[key] = value
            } else {
                let suggestion = nearestKey(to: key, among: known)
                if let suggestion { misspelled.insert(suggestion) }
                report(.unknownKey, keyPath, keyNode.line, "unknown key '\(key)'",
                       hint: suggestion.map { "did you mean '\($0)'?" }
                           ?? unknownKeyHint(key, known: known, atTop: path.isEmpty))
            }
        }
        return Fields(path: path, line: node.line, nodes: nodes, misspelled: misspelled)
    }

    /// The text of a required key, reporting it when absent.
    mutating func required(_ fields: Fields, _ key: String, what: String, hint: String) -> String? {
        guard let node = fields[key] else {
            if fields.misspelled.contains(key) { return nil }
            report(.missingKey, fields.path(key), fields.line, "the \(what) is missing", hint: hint)
            return nil
        }
        return text(node, path: fields.path(key))
    }

    /// A scalar's text as written, trimmed; empty text is reported.
    mutating func text(_ node: Node, path: String) -> String? {
        guard case let .scalar(scalar) = node else {
            report(.wrongType, path, node.line, "expected text, got \(node.shown)",
                   hint: "a text that contains ': ' or starts with '- ' must be put in quotes")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            report(.invalidValue, path, node.line, "must not be empty")
            return nil
        }
        return text
    }

    mutating func list(_ node: Node, path: String, example: String) -> [Node]? {
        guard case let .sequence(sequence) = node else {
            report(.wrongType, path, node.line, "expected a list, got \(node.shown)",
                   hint: "write a list as [a, b] or with one '- ' line per entry, e.g. \(example)")
            return nil
        }
        return Array(sequence)
    }

    mutating func wholeNumber(_ node: Node, path: String, in range: ClosedRange<Int>, rule: String, example: Int) -> Int? {
        let example = "\(path.split(separator: ".").last ?? ""): \(example)"
        guard case let .scalar(scalar) = node, let number = Int(scalar.string.trimmingCharacters(in: .whitespaces))
        else {
            let digits = node.scalar.map { !$0.string.isEmpty && $0.string.allSatisfy(\.isASCII) && $0.string.allSatisfy(\.isNumber) } ?? false
            report(.wrongType, path, node.line,
                   digits ? "the number \(node.shown) is too large" : "expected a whole number, got \(node.shown)",
                   hint: digits ? "it must be \(rule)" : "write digits only, e.g. `\(example)`")
            return nil
        }
        guard range.contains(number) else {
            report(.invalidValue, path, node.line, "must be \(rule), got \(number)")
            return nil
        }
        return number
    }

    mutating func positive(_ fields: Fields, _ key: String, into value: inout Int) {
        if let node = fields[key], let number = wholeNumber(node, path: fields.path(key), in: 1...Int.max, rule: "at least 1", example: value) {
            value = number
        }
    }

    /// `true` or `false` (YAML 1.2 core schema: also `True`, `FALSE`, ...); anything else is reported.
    mutating func flag(_ node: Node, path: String) -> Bool? {
        if case let .scalar(scalar) = node {
            switch scalar.string.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        let key = path.split(separator: ".").last.map(String.init) ?? path
        report(.wrongType, path, node.line, "expected true or false, got \(node.shown)",
               hint: "write `\(key): true` or `\(key): false`")
        return nil
    }

    mutating func positiveRate(_ fields: Fields, _ key: String, into value: inout Double) {
        guard let node = fields[key] else { return }
        let path = fields.path(key)
        guard case let .scalar(scalar) = node,
              let number = Double(scalar.string.trimmingCharacters(in: .whitespaces)), number.isFinite
        else {
            report(.wrongType, path, node.line, "expected a number, got \(node.shown)",
                   hint: "write a number such as 1 or 0.5, e.g. `\(key): 2`")
            return
        }
        guard number > 0 else {
            report(.invalidValue, path, node.line, "must be more than 0, got \(scalar.string)")
            return
        }
        value = number
    }
}

// MARK: - Did you mean

private func unknownKeyHint(_ key: String, known: [String], atTop: Bool) -> String {
    if atTop, limitKeys.contains(key) {
        return "'\(key)' belongs under `limits:`"
    }
    if !atTop, topLevelKeys.contains(key) {
        return "'\(key)' belongs at the top level, not indented here"
    }
    return "the keys allowed here are " + known.joined(separator: ", ")
}

/// The known key the user most likely meant: same words in another spelling, a prefix, or a small typo.
func nearestKey(to key: String, among known: [String]) -> String? {
    let normalised = snakeCase(key)
    if let same = known.first(where: { $0 == normalised }) { return same }
    if normalised.count >= 4,
       let longer = known.first(where: { $0.hasPrefix(normalised + "_") || normalised.hasPrefix($0 + "_") }) {
        return longer
    }
    let allowed = normalised.count <= 4 ? 1 : normalised.count <= 10 ? 2 : 3
    let scored = known.map { (key: $0, distance: editDistance(normalised, $0)) }
    guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= allowed else { return nil }
    return best.key
}

/// `chatChars`, `Chat-Chars` and `chat chars` all become `chat_chars`.
private func snakeCase(_ key: String) -> String {
    var result = ""
    for character in key {
        if character.isUppercase, let last = result.last, last != "_" {
            result.append("_")
        }
        result.append(character == "-" || character == " " ? "_" : Character(character.lowercased()))
    }
    return result
}

/// The edit distance between two strings, by characters, a swap of two neighbours counting as one edit.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
            }
        }
    }
    return table[a.count][b.count]
}
