import Foundation
import StellingCore
@testable import StellingServer
import Testing
@testable import StellingLWS

/// The repository's root, found from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Parses YAML that must be wrong and returns the error.
private func problems(_ yaml: String, environment: [String: String] = [:]) -> ConfigurationError? {
    do {
        _ = try ConfigurationFile.parse(yaml: yaml, environment: environment)
        return nil
    } catch {
        return error
    }
}

/// A fresh temporary folder, removed by the caller.
private func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("stelling-config-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("Shipped configuration files")
struct ShippedConfigurationTests {
    @Test func theSeminarLoadsAsTheEventWasHeld() throws {
        let path = repositoryRoot.appendingPathComponent("config/seminar.yaml").path
        let contents = try ConfigurationFile.load(path: path, environment: [:])
        let configuration = contents.room
        #expect(configuration.title == "Leren samen werken aan opgaven")
        #expect(configuration.statements.map(\.id) == ["s1", "s2", "s3", "s4", "s5", "s6"])
        #expect(configuration.statements.allSatisfy { !$0.text.isEmpty && $0.text.unicodeScalars.count <= 500 })
        #expect(configuration.groups == ["Rijk", "Provincie", "Gemeente", "Waterschap", "Anders"])
        #expect(configuration.programme == [
            ProgrammeItem(time: "14:00", item: "Welkom door de moderator"),
            ProgrammeItem(time: "14:05", item: "Interview met de auteurs van het essay"),
            ProgrammeItem(time: "14:15", item: "Paneldiscussie over stellingen via de chat"),
            ProgrammeItem(time: "15:00", item: "Afsluiting"),
        ])
        #expect(configuration.moderatorKey == nil)
        #expect(contents.server.port == 8080)
        #expect(configuration.language == "nl")
        #expect(contents.server.webRoot == nil)
        #expect(contents.server.database == repositoryRoot.appendingPathComponent("config/data/stelling.sqlite").path)
        #expect(configuration.limits == Limits())
    }

    @Test func theEnglishExampleShowsTheDefaults() throws {
        let path = repositoryRoot.appendingPathComponent("config/example-en.yaml").path
        let contents = try ConfigurationFile.load(path: path, environment: [:])
        let configuration = contents.room
        var expected = Configuration(title: "Town hall on the new cycling plan")
        expected.language = "en"
        expected.programme = configuration.programme
        expected.statements = configuration.statements
        expected.retentionDays = 90
        #expect(configuration == expected)
        #expect(contents.server == ServerSettings(
            port: 8081, database: repositoryRoot.appendingPathComponent("config/data/example-en.sqlite").path))
        #expect(configuration.statements.count == 3)
        #expect(configuration.programme.count == 3)
        #expect(configuration.groups.isEmpty)
    }

    @Test func theSeminarTakesTheKeyFromTheEnvironment() throws {
        let path = repositoryRoot.appendingPathComponent("config/seminar.yaml").path
        let contents = try ConfigurationFile.load(
            path: path, environment: ["STELLING_MODERATOR_KEY": "a-key-from-the-environment"])
        let configuration = contents.room
        #expect(configuration.moderatorKey == "a-key-from-the-environment")
    }
}

@Suite("Reading a configuration")
struct ConfigurationFileTests {
    @Test func absentOptionalKeysTakeTheProtocolDefaults() throws {
        let contents = try ConfigurationFile.parse(yaml: "title: Een seminar\n", environment: [:])
        let configuration = contents.room
        #expect(configuration == Configuration(title: "Een seminar"))
        #expect(contents.server == ServerSettings())
        #expect(contents.server.host == "0.0.0.0")
        #expect(contents.server.port == 8080)
        #expect(contents.server.database == "data/stelling.sqlite")
        #expect(configuration.keepaliveSeconds == 60)
        #expect(configuration.tallyIntervalMilliseconds == 250)
        #expect(configuration.limits == Limits(
            messageBytes: 8192, chatChars: 500, chatBurst: 5, chatPerSecond: 1, voteBurst: 10, votesPerSecond: 2))
        #expect(configuration.retentionDays == nil, "no default deletion")
        #expect(configuration.privacy == PrivacySettings(ballot: .pseudonymous, minGroupSize: 5))
    }

    @Test func thePrivacyKeysAreRead() throws {
        let yaml = """
        title: Een seminar
        retention_days: 30
        privacy:
          ballot: secret
          min_group_size: 3
        """
        let configuration = try ConfigurationFile.parse(yaml: yaml, environment: [:]).room
        #expect(configuration.retentionDays == 30)
        #expect(configuration.privacy == PrivacySettings(ballot: .secret, minGroupSize: 3))
    }

    @Test(arguments: [
        ("retention_days: 0", "retention_days"), ("retention_days: soon", "retention_days"),
        ("privacy:\n  ballot: open", "privacy.ballot"), ("privacy:\n  min_group_size: 0", "privacy.min_group_size"),
        ("privacy:\n  min_size: 3", "privacy.min_size"), ("privacy: secret", "privacy"),
    ])
    func badPrivacyKeysAreReportedWithTheirPath(line: String, path: String) throws {
        let error = try #require(problems("title: Een seminar\n" + line + "\n"))
        #expect(error.problems.map(\.path).contains(path), "\(error.problems)")
    }

    @Test func keysWithoutAValueCountAsAbsent() throws {
        let yaml = """
        title: Een seminar
        moderator_key:
        groups:
        limits:
        port: ~
        """
        #expect(try ConfigurationFile.parse(yaml: yaml, environment: [:]) == ConfigurationFile.Contents(room: Configuration(title: "Een seminar")))
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
        title: "  Leren: samen  "
        moderator_key: correct-horse-battery-staple
        host: 127.0.0.1
        port: 0
        database: /var/lib/stelling/db.sqlite
        groups: [Rijk, Gemeente]
        programme:
          - {time: "9:30", item: Koffie}
          - time: 10:00
            item: Start
        statements:
          - id: s1
            text: >
              Een lange stelling
              over twee regels.
          - id: 2
            text: Twee
        keepalive_seconds: 30
        tally_interval_ms: 10
        allowed_origins: ["https://stelling.example.nl", "http://localhost:8080"]
        language: en
        web_root: /srv/stelling/web
        limits:
          message_bytes: 4096
          chat_chars: 280
          chat_burst: 3
          chat_per_second: 0.5
          vote_burst: 4
          votes_per_second: 1.5
          join_burst: 300
          joins_per_second: 50
          outbound_queue_bytes: 65536
        """
        let contents = try ConfigurationFile.parse(yaml: yaml, environment: [:])
        let configuration = contents.room
        #expect(configuration == Configuration(
            title: "Leren: samen",
            programme: [ProgrammeItem(time: "9:30", item: "Koffie"), ProgrammeItem(time: "10:00", item: "Start")],
            groups: ["Rijk", "Gemeente"],
            statements: [
                StatementSpec(id: "s1", text: "Een lange stelling over twee regels."),
                StatementSpec(id: "2", text: "Twee"),
            ],
            moderatorKey: "correct-horse-battery-staple",
            keepaliveSeconds: 30,
            tallyIntervalMilliseconds: 10,
            language: "en",
            limits: Limits(messageBytes: 4096, chatChars: 280, chatBurst: 3, chatPerSecond: 0.5,
                           voteBurst: 4, votesPerSecond: 1.5, joinBurst: 300, joinsPerSecond: 50,
                           outboundQueueBytes: 65536)
        ))
        #expect(contents.server == ServerSettings(
            host: "127.0.0.1", port: 0, database: "/var/lib/stelling/db.sqlite", webRoot: "/srv/stelling/web",
            allowedOrigins: ["https://stelling.example.nl", "http://localhost:8080"]))
    }

    @Test(arguments: [
        ([:], "in-the-file-key-0", "in-the-file-key-0"),
        (["STELLING_MODERATOR_KEY": "from-the-environment"], "in-the-file-key-0", "from-the-environment"),
        (["STELLING_MODERATOR_KEY": ""], "in-the-file-key-0", "in-the-file-key-0"),
        (["STELLING_MODERATOR_KEY": "from-the-environment"], nil, "from-the-environment"),
        ([:], nil, nil),
    ] as [([String: String], String?, String?)])
    func theEnvironmentKeyWinsWhenSetAndNotEmpty(environment: [String: String], fileKey: String?, expected: String?) throws {
        var yaml = "title: T\n"
        if let fileKey { yaml += "moderator_key: \(fileKey)\n" }
        let contents = try ConfigurationFile.parse(yaml: yaml, environment: environment)
        let configuration = contents.room
        #expect(configuration.moderatorKey == expected)
    }

    @Test func aShortKeyInTheFileIsIgnoredWhenTheEnvironmentWins() throws {
        let contents = try ConfigurationFile.parse(
            yaml: "title: T\nmoderator_key: change-me\n",
            environment: ["STELLING_MODERATOR_KEY": "a-long-enough-key"])
        let configuration = contents.room
        #expect(configuration.moderatorKey == "a-long-enough-key")
    }

    @Test func thePlaceholderKeyInTheEnvironmentIsAnError() throws {
        let error = try #require(problems("title: T\n", environment: ["STELLING_MODERATOR_KEY": "change-me-to-a-long-random-key"]))
        #expect(error.problems.map(\.path) == ["STELLING_MODERATOR_KEY"])
        #expect(error.problems.first?.message.contains("placeholder") == true)
    }

    @Test func trustedProxiesAreReadWithLoopbackAsTheDefault() throws {
        #expect(try ConfigurationFile.parse(yaml: "title: T\n", environment: [:]).server.trustedProxies == ["127.0.0.0/8", "::1"])
        let contents = try ConfigurationFile.parse(yaml: "title: T\ntrusted_proxies: [10.0.0.0/8, \"fd00::/8\"]\n", environment: [:])
        #expect(contents.server.trustedProxies == ["10.0.0.0/8", "fd00::/8"])
        #expect(TransportOptions(settings: contents.server, configuration: contents.room).trustedProxies
            == (try TrustedProxies(parsing: ["10.0.0.0/8", "fd00::/8"])))
        #expect(try ConfigurationFile.parse(yaml: "title: T\ntrusted_proxies: []\n", environment: [:]).server.trustedProxies == [])
    }

    @Test func aShortKeyInTheEnvironmentIsAnError() throws {
        let error = try #require(problems("title: T\n", environment: ["STELLING_MODERATOR_KEY": "short"]))
        #expect(error.problems.map(\.path) == ["STELLING_MODERATOR_KEY"])
        #expect(error.problems.first?.line == nil)
    }

    @Test(arguments: EventLoop.allCases)
    func theEventLoopIsRead(_ eventLoop: EventLoop) throws {
        let contents = try ConfigurationFile.parse(yaml: "title: T\nevent_loop: \(eventLoop.rawValue)\n", environment: [:])
        #expect(contents.server.eventLoop == eventLoop)
        #expect(TransportOptions(settings: contents.server, configuration: contents.room).eventLoop == eventLoop)
        #expect(try ConfigurationFile.parse(yaml: "title: T\n", environment: [:]).server.eventLoop == .poll)
    }

    @Test func theConnectionCapsAndTLSFilesAreRead() throws {
        let yaml = """
        title: T
        limits:
          max_connections: 5000
          max_connections_per_address: 200
        tls:
          certificate: /etc/stelling/fullchain.pem
          private_key: tls/privkey.pem
        """
        let contents = try ConfigurationFile.parse(yaml: yaml, environment: [:])
        #expect(contents.server.maxConnections == 5000)
        #expect(contents.server.maxConnectionsPerAddress == 200)
        #expect(contents.server.tlsCertificate == "/etc/stelling/fullchain.pem")
        #expect(contents.server.tlsPrivateKey == "tls/privkey.pem")
        let defaults = try ConfigurationFile.parse(yaml: "title: T\n", environment: [:])
        #expect(defaults.server.maxConnections == 20000 && defaults.server.maxConnectionsPerAddress == 500)
        #expect(defaults.server.tlsCertificate == nil && defaults.server.tlsPrivateKey == nil)
    }

    @Test func relativeTLSFilesAreTakenFromTheFilesFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("event.yaml")
        try "title: T\ntls:\n  certificate: tls/cert.pem\n  private_key: /srv/key.pem\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let contents = try ConfigurationFile.load(path: file.path, environment: [:])
        #expect(contents.server.tlsCertificate == folder.appendingPathComponent("tls/cert.pem").path)
        #expect(contents.server.tlsPrivateKey == "/srv/key.pem")
    }

    @Test func theTransportOptionsFollowTheConfiguration() {
        var configuration = Configuration(title: "T")
        let settings = ServerSettings(host: "127.0.0.1", port: 9000, tlsCertificate: "/c.pem", tlsPrivateKey: "/k.pem",
                                      allowedOrigins: ["https://x.nl"], maxConnections: 7, maxConnectionsPerAddress: 3)
        configuration.limits.messageBytes = 100
        configuration.limits.outboundQueueBytes = 4096
        let options = TransportOptions(settings: settings, configuration: configuration)
        #expect(options.outboundQueueLimitBytes == 4096)
        #expect(options.host == "127.0.0.1" && options.port == 9000)
        #expect(options.allowedOrigins == ["https://x.nl"])
        #expect(options.tls == TLSFiles(certificatePath: "/c.pem", privateKeyPath: "/k.pem"))
        #expect(options.maxConnections == 7 && options.maxConnectionsPerAddress == 3)
        #expect(options.messageLimitBytes == 100)
        #expect(!options.echoConformance)
    }

    @Test func aRelativeDatabaseIsTakenFromTheFilesFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("event.yaml")
        try "title: T\ndatabase: data/event.sqlite\n".write(to: file, atomically: true, encoding: .utf8)
        let contents = try ConfigurationFile.load(path: file.path, environment: [:])
        #expect(contents.server.database == folder.appendingPathComponent("data/event.sqlite").path)
        #expect(contents.server.webRoot == nil)

        try "title: T\ndatabase: /tmp/elsewhere.sqlite\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try ConfigurationFile.load(path: file.path, environment: [:]).server.database == "/tmp/elsewhere.sqlite")

        try "title: T\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try ConfigurationFile.load(path: file.path, environment: [:]).server.database
            == folder.appendingPathComponent("data/stelling.sqlite").path)
    }

    @Test(arguments: [
        ("config/seminar.yaml", "config/data/x.sqlite"),
        ("seminar.yaml", "data/x.sqlite"),
        ("/etc/stelling/seminar.yaml", "/etc/stelling/data/x.sqlite"),
        ("/seminar.yaml", "/data/x.sqlite"),
    ])
    func relativePathsAreJoinedToTheFolder(file: String, expected: String) {
        #expect(ConfigurationFile.resolve("data/x.sqlite", againstFolderOf: file) == expected)
    }

    @Test func parsingTextLeavesARelativeDatabaseAsWritten() throws {
        let contents = try ConfigurationFile.parse(yaml: "title: T\ndatabase: data/x.sqlite\n", environment: [:])
        #expect(contents.server.database == "data/x.sqlite")
    }

    @Test func statementLengthsCountCodePoints() throws {
        let precomposed = String(repeating: "\u{E9}", count: 500)
        let combining = String(repeating: "e\u{301}", count: 500)
        #expect(precomposed.count == combining.count)

        let fine = try ConfigurationFile.parse(
            yaml: "title: T\nstatements:\n  - id: s1\n    text: \(precomposed)\n", environment: [:])
        #expect(fine.room.statements.first?.text == precomposed)

        let error = try #require(problems("title: T\nstatements:\n  - id: s1\n    text: \(combining)\n"))
        #expect(error.problems.count == 1)
        #expect(error.problems.first?.path == "statements[0].text")
        #expect(error.problems.first?.line == 4)
        #expect(error.problems.first?.message.contains("1000 characters") == true)
    }

    @Test func theStatementLimitFollowsChatChars() throws {
        let yaml = "title: T\nlimits: {chat_chars: 10}\nstatements:\n  - {id: s1, text: Elf tekens!}\n"
        let error = try #require(problems(yaml))
        #expect(error.problems.map(\.path) == ["statements[0].text"])
        #expect(error.problems.map(\.line) == [4])
    }

    @Test func generatedKeysAreLongUrlSafeAndDifferent() {
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<100).map { _ in ConfigurationFile.generateModeratorKey(using: &generator) }
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for key in keys {
            #expect(key.count == 32)  // 32 × 6 bits = 192 bits
            #expect(key.allSatisfy(urlSafe.contains))
        }
        #expect(Set(keys).count == keys.count)
    }

    @Test func aGeneratedKeyPassesTheChecks() throws {
        var generator = SystemRandomNumberGenerator()
        let key = ConfigurationFile.generateModeratorKey(using: &generator)
        let contents = try ConfigurationFile.parse(yaml: "title: T\nmoderator_key: \(key)\n", environment: [:])
        let configuration = contents.room
        #expect(configuration.moderatorKey == key)
    }
}

/// One wrong configuration and the problem it must give.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    let name: String
    let yaml: String
    let kind: ConfigurationProblem.Kind
    let path: String
    let line: Int?
    let message: String
    var hint: String? = nil

    var testDescription: String { name }
}

private let thirtyThreeLetters = String(repeating: "e", count: 33)

@Suite("Mistakes in a configuration")
struct ConfigurationErrorTests {
    static let cases: [ErrorCase] = [
        ErrorCase(name: "a word where a whole number belongs",
                  yaml: "title: T\nlimits:\n  chat_chars: abc\n",
                  kind: .wrongType, path: "limits.chat_chars", line: 3,
                  message: "expected a whole number, got 'abc'", hint: "digits only"),
        ErrorCase(name: "a fraction where a whole number belongs",
                  yaml: "title: T\nport: 80.5\n",
                  kind: .wrongType, path: "port", line: 2, message: "expected a whole number, got '80.5'"),
        ErrorCase(name: "a huge number",
                  yaml: "title: T\nkeepalive_seconds: 99999999999999999999999\n",
                  kind: .wrongType, path: "keepalive_seconds", line: 2, message: "too large"),
        ErrorCase(name: "a missing title",
                  yaml: "# nothing yet\nport: 8080\n",
                  kind: .missingKey, path: "title", line: 2, message: "the title is missing"),
        ErrorCase(name: "an empty title",
                  yaml: "title: \"  \"\n",
                  kind: .invalidValue, path: "title", line: 1, message: "must not be empty"),
        ErrorCase(name: "a title that is a list",
                  yaml: "title:\n  - a\n",
                  kind: .wrongType, path: "title", line: 2, message: "expected text, got a list"),
        ErrorCase(name: "an empty file",
                  yaml: "# only a comment\n",
                  kind: .missingKey, path: "title", line: nil, message: "the configuration is empty"),
        ErrorCase(name: "a list at the top",
                  yaml: "- title: T\n",
                  kind: .wrongType, path: "", line: 1, message: "expected a mapping"),
        ErrorCase(name: "a near miss of tally_interval_ms",
                  yaml: "title: T\ntally_interval: 100\n",
                  kind: .unknownKey, path: "tally_interval", line: 2,
                  message: "unknown key 'tally_interval'", hint: "did you mean 'tally_interval_ms'?"),
        ErrorCase(name: "a misspelled title, not also reported missing",
                  yaml: "titel: Leren\n",
                  kind: .unknownKey, path: "titel", line: 1,
                  message: "unknown key 'titel'", hint: "did you mean 'title'?"),
        ErrorCase(name: "a typo in a limit",
                  yaml: "title: T\nlimits:\n  chat_char: 100\n",
                  kind: .unknownKey, path: "limits.chat_char", line: 3,
                  message: "unknown key 'chat_char'", hint: "did you mean 'chat_chars'?"),
        ErrorCase(name: "a camel-case key",
                  yaml: "title: T\nwebRoot: web\n",
                  kind: .unknownKey, path: "webRoot", line: 2,
                  message: "unknown key 'webRoot'", hint: "did you mean 'web_root'?"),
        ErrorCase(name: "a limit at the top level",
                  yaml: "title: T\nchat_burst: 3\n",
                  kind: .unknownKey, path: "chat_burst", line: 2,
                  message: "unknown key 'chat_burst'", hint: "belongs under `limits:`"),
        ErrorCase(name: "a key nobody knows",
                  yaml: "title: T\nsubtitle: PBL en NSOB\n",
                  kind: .unknownKey, path: "subtitle", line: 2,
                  message: "unknown key 'subtitle'", hint: "the keys allowed here are title, moderator_key"),
        ErrorCase(name: "an unknown key in a statement",
                  yaml: "title: T\nstatements:\n  - id: s1\n    txt: Iets\n",
                  kind: .unknownKey, path: "statements[0].txt", line: 4,
                  message: "unknown key 'txt'", hint: "did you mean 'text'?"),
        ErrorCase(name: "a duplicate statement id",
                  yaml: "title: T\nstatements:\n  - id: s1\n    text: Een\n  - id: s1\n    text: Twee\n",
                  kind: .duplicate, path: "statements[1].id", line: 5,
                  message: "the statement id 's1' is used twice", hint: "already used on line 3"),
        ErrorCase(name: "a statement with empty text",
                  yaml: "title: T\nstatements:\n  - id: s1\n    text: \"\"\n",
                  kind: .invalidValue, path: "statements[0].text", line: 4, message: "must not be empty"),
        ErrorCase(name: "a statement without text",
                  yaml: "title: T\nstatements:\n  - id: s1\n",
                  kind: .missingKey, path: "statements[0].text", line: 3, message: "the text is missing"),
        ErrorCase(name: "a statement without id",
                  yaml: "title: T\nstatements:\n  - text: Een\n",
                  kind: .missingKey, path: "statements[0].id", line: 3, message: "the id is missing"),
        ErrorCase(name: "a statement written as bare text",
                  yaml: "title: T\nstatements:\n  - Leren is leuk\n",
                  kind: .wrongType, path: "statements[0]", line: 3,
                  message: "expected a mapping", hint: "- id: s1"),
        ErrorCase(name: "a statement id with a space",
                  yaml: "title: T\nstatements:\n  - id: s 1\n    text: Een\n",
                  kind: .invalidValue, path: "statements[0].id", line: 3,
                  message: "'s 1' is not a valid statement id", hint: "letters, digits, - or _"),
        ErrorCase(name: "a statement id with punctuation",
                  yaml: "title: T\nstatements:\n  - {id: \"s1!\", text: Een}\n",
                  kind: .invalidValue, path: "statements[0].id", line: 3, message: "not a valid statement id"),
        ErrorCase(name: "a statement id of 33 characters",
                  yaml: "title: T\nstatements:\n  - id: \(thirtyThreeLetters)\n    text: Een\n",
                  kind: .invalidValue, path: "statements[0].id", line: 3, message: "not a valid statement id"),
        ErrorCase(name: "statements that are not a list",
                  yaml: "title: T\nstatements: Leren\n",
                  kind: .wrongType, path: "statements", line: 2, message: "expected a list, got 'Leren'"),
        ErrorCase(name: "an empty group",
                  yaml: "title: T\ngroups: [Rijk, \"\"]\n",
                  kind: .invalidValue, path: "groups[1]", line: 2, message: "must not be empty"),
        ErrorCase(name: "a group twice",
                  yaml: "title: T\ngroups:\n  - Rijk\n  - Gemeente\n  - Rijk\n",
                  kind: .duplicate, path: "groups[2]", line: 5,
                  message: "the group 'Rijk' is listed twice", hint: "already listed on line 3"),
        ErrorCase(name: "groups that differ only in capitals",
                  yaml: "title: T\ngroups: [Rijk, rijk]\n",
                  kind: .duplicate, path: "groups[1]", line: 2, message: "listed twice"),
        ErrorCase(name: "a port over 65535",
                  yaml: "title: T\nport: 65536\n",
                  kind: .invalidValue, path: "port", line: 2, message: "must be between 0 and 65535, got 65536"),
        ErrorCase(name: "a negative port",
                  yaml: "title: T\nport: -1\n",
                  kind: .invalidValue, path: "port", line: 2, message: "must be between 0 and 65535, got -1"),
        ErrorCase(name: "a zero limit",
                  yaml: "title: T\nlimits:\n  message_bytes: 8192\n  vote_burst: 0\n",
                  kind: .invalidValue, path: "limits.vote_burst", line: 4, message: "must be at least 1, got 0"),
        ErrorCase(name: "a negative rate",
                  yaml: "title: T\nlimits:\n  chat_per_second: -0.5\n",
                  kind: .invalidValue, path: "limits.chat_per_second", line: 3, message: "must be more than 0"),
        ErrorCase(name: "a rate that is not a number",
                  yaml: "title: T\nlimits:\n  votes_per_second: veel\n",
                  kind: .wrongType, path: "limits.votes_per_second", line: 3,
                  message: "expected a number, got 'veel'"),
        ErrorCase(name: "limits that are not a mapping",
                  yaml: "title: T\nlimits: 5\n",
                  kind: .wrongType, path: "limits", line: 2, message: "expected a mapping"),
        ErrorCase(name: "a keepalive under a second",
                  yaml: "title: T\nkeepalive_seconds: 0\n",
                  kind: .invalidValue, path: "keepalive_seconds", line: 2, message: "must be at least 1, got 0"),
        ErrorCase(name: "a tally interval under 10 ms",
                  yaml: "title: T\ntally_interval_ms: 9\n",
                  kind: .invalidValue, path: "tally_interval_ms", line: 2, message: "must be at least 10, got 9"),
        ErrorCase(name: "a language without pages",
                  yaml: "title: T\nlanguage: de\n",
                  kind: .invalidValue, path: "language", line: 2, message: "expected nl or en, got 'de'"),
        ErrorCase(name: "an event loop libwebsockets cannot run on",
                  yaml: "title: T\nevent_loop: epoll\n",
                  kind: .invalidValue, path: "event_loop", line: 2, message: "expected poll, libev or libuv, got 'epoll'"),
        ErrorCase(name: "a short moderator key",
                  yaml: "title: T\nmoderator_key: fifteen-chars-x\n",
                  kind: .invalidValue, path: "moderator_key", line: 2,
                  message: "shorter than 16 characters", hint: "leave it out so that the server makes one"),
        ErrorCase(name: "the documentation's placeholder key",
                  yaml: "title: T\nmoderator_key: change-me-to-a-long-random-key\n",
                  kind: .invalidValue, path: "moderator_key", line: 2,
                  message: "the documentation's placeholder", hint: "leave it out so that the server makes one"),
        ErrorCase(name: "a trusted proxy that is no address",
                  yaml: "title: T\ntrusted_proxies: [127.0.0.1, nginx]\n",
                  kind: .invalidValue, path: "trusted_proxies[1]", line: 2,
                  message: "expected an IP address or CIDR range, got 'nginx'", hint: "10.0.0.0/8"),
        ErrorCase(name: "a programme line without item",
                  yaml: "title: T\nprogramme:\n  - time: \"14:00\"\n",
                  kind: .missingKey, path: "programme[0].item", line: 3, message: "the item is missing"),
        ErrorCase(name: "an origin with a trailing slash",
                  yaml: "title: T\nallowed_origins:\n  - https://stelling.example.nl/\n",
                  kind: .invalidValue, path: "allowed_origins[0]", line: 3,
                  message: "an origin has no path", hint: "remove the trailing /"),
        ErrorCase(name: "an origin without a scheme",
                  yaml: "title: T\nallowed_origins: [stelling.example.nl]\n",
                  kind: .invalidValue, path: "allowed_origins[0]", line: 2, message: "expected an origin"),
        ErrorCase(name: "a connection cap of zero",
                  yaml: "title: T\nlimits:\n  max_connections: 0\n",
                  kind: .invalidValue, path: "limits.max_connections", line: 3, message: "must be at least 1, got 0"),
        ErrorCase(name: "a per-address cap that is not a number",
                  yaml: "title: T\nlimits:\n  max_connections_per_address: many\n",
                  kind: .wrongType, path: "limits.max_connections_per_address", line: 3,
                  message: "expected a whole number, got 'many'"),
        ErrorCase(name: "a connection cap at the top level",
                  yaml: "title: T\nmax_connections: 100\n",
                  kind: .unknownKey, path: "max_connections", line: 2,
                  message: "unknown key 'max_connections'", hint: "belongs under `limits:`"),
        ErrorCase(name: "a TLS certificate without its key",
                  yaml: "title: T\ntls:\n  certificate: tls/cert.pem\n",
                  kind: .missingKey, path: "tls.private_key", line: 3,
                  message: "the TLS private key is missing", hint: "give both"),
        ErrorCase(name: "a TLS key without its certificate",
                  yaml: "title: T\ntls:\n  private_key: tls/key.pem\n",
                  kind: .missingKey, path: "tls.certificate", line: 3, message: "the TLS certificate is missing"),
        ErrorCase(name: "a misspelt TLS key",
                  yaml: "title: T\ntls:\n  certificate: c.pem\n  privatekey: k.pem\n",
                  kind: .unknownKey, path: "tls.privatekey", line: 4,
                  message: "unknown key 'privatekey'", hint: "did you mean 'private_key'?"),
        ErrorCase(name: "TLS as a single path",
                  yaml: "title: T\ntls: cert.pem\n",
                  kind: .wrongType, path: "tls", line: 2, message: "expected a mapping"),
        ErrorCase(name: "an empty TLS certificate path",
                  yaml: "title: T\ntls:\n  certificate: \"\"\n  private_key: k.pem\n",
                  kind: .invalidValue, path: "tls.certificate", line: 3, message: "must not be empty"),
        ErrorCase(name: "an unquoted colon in a text",
                  yaml: "title: T\nstatements:\n  - id: s1\n    text: Stelling: leren loont\n",
                  kind: .syntax, path: "", line: 4, message: "not valid YAML", hint: "must be put in quotes"),
        ErrorCase(name: "a tab for indentation",
                  yaml: "title: T\nlimits:\n\tchat_chars: 5\n",
                  kind: .syntax, path: "", line: 3, message: "not valid YAML", hint: "not tabs"),
        ErrorCase(name: "an unclosed quote",
                  yaml: "title: \"T\nport: 8080\n",
                  kind: .syntax, path: "", line: 3, message: "not valid YAML", hint: "check the quotes"),
        ErrorCase(name: "a key twice",
                  yaml: "title: T\nport: 8080\nlanguage: nl\nport: 8081\n",
                  kind: .syntax, path: "port", line: 4,
                  message: "the key 'port' appears twice", hint: "the first is on line 2"),
    ]

    @Test(arguments: cases)
    func aMistakeIsReportedWithItsPathAndLine(_ mistake: ErrorCase) throws {
        let error = try #require(problems(mistake.yaml), "the configuration should have been refused")
        try #require(error.problems.count == 1, "\(error)")
        let problem = error.problems[0]
        #expect(problem.kind == mistake.kind)
        #expect(problem.path == mistake.path)
        #expect(problem.line == mistake.line)
        #expect(problem.message.contains(mistake.message), "\(problem.message)")
        if let hint = mistake.hint {
            #expect(problem.hint?.contains(hint) == true, "\(problem.hint ?? "no hint")")
        }
        #expect(!error.description.isEmpty)
    }

    @Test func aSyntaxErrorGivesTheColumnToo() throws {
        let error = try #require(problems("title: T\nstatements:\n  - id: s1\n    text: Stelling: leren loont\n"))
        let problem = try #require(error.problems.first)
        #expect(problem.line == 4)
        #expect(problem.column == 19)
        #expect(error.description.hasPrefix("line 4, column 19: this is not valid YAML"))
    }

    @Test func allProblemsAreReportedAtOnceInLineOrder() throws {
        let yaml = """
        port: 99999
        tally_interval: 100
        limits:
          chat_chars: abc
          vote_burst: 0
        groups: [Rijk, Rijk]
        statements:
          - id: s1
            text: Een
          - id: s1
            text: ""
        language: fr
        """
        let error = try #require(problems(yaml))
        #expect(error.problems.map(\.path) == [
            "title", "port", "tally_interval", "limits.chat_chars", "limits.vote_burst", "groups[1]",
            "statements[1].id", "statements[1].text", "language",
        ])
        #expect(error.problems.map(\.line) == [1, 1, 2, 4, 5, 6, 10, 11, 12])
    }

    @Test func theDescriptionNamesFileLinePathMessageAndHint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("seminar.yaml")
        try "title: T\nlimits:\n  chat_chars: abc\nport: 70000\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.load(path: file.path, environment: [:]) }
        do {
            _ = try ConfigurationFile.load(path: file.path, environment: [:])
        } catch {
            #expect(error.file == file.path)
            #expect(error.description == """
            \(file.path):3: limits.chat_chars: expected a whole number, got 'abc' (hint: write digits only, e.g. `chat_chars: 500`)
            \(file.path):4: port: must be between 0 and 65535, got 70000
            """)
        }
    }

    @Test func aMissingFileIsReportedWithoutALine() throws {
        let path = "/nonexistent/stelling/seminar.yaml"
        do {
            _ = try ConfigurationFile.load(path: path, environment: [:])
            Issue.record("a missing file should be refused")
        } catch {
            #expect(error.problems.map(\.kind) == [.unreadableFile])
            #expect(error.problems.first?.line == nil)
            #expect(error.description == "\(path): no such file (hint: check the path of the configuration file)")
        }
    }

    @Test func aFolderOrBinaryIsNotAConfiguration() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.load(path: folder.path, environment: [:]) }

        let file = folder.appendingPathComponent("latin1.yaml")
        try Data([0x74, 0x69, 0x74, 0x6C, 0x65, 0x3A, 0x20, 0xE9, 0xFF, 0x0A]).write(to: file)
        do {
            _ = try ConfigurationFile.load(path: file.path, environment: [:])
            Issue.record("a file that is not UTF-8 should be refused")
        } catch {
            #expect(error.problems.map(\.kind) == [.unreadableFile])
            #expect(error.problems.first?.message == "the file is not UTF-8 text")
        }
    }

    @Test(arguments: [
        ("tally_interval", "tally_interval_ms"),
        ("tallyIntervalMs", "tally_interval_ms"),
        ("keepalive", "keepalive_seconds"),
        ("moderator-key", "moderator_key"),
        ("Title", "title"),
        ("prgramme", "programme"),
        ("program", "programme"),
        ("statement", "statements"),
        ("allowed_origin", "allowed_origins"),
        ("langauge", "language"),
        ("prot", "port"),
        ("hots", "host"),
    ])
    func nearMissesGetASuggestion(typed: String, meant: String) {
        let known = [
            "title", "moderator_key", "host", "port", "database", "groups", "programme", "statements",
            "keepalive_seconds", "tally_interval_ms", "allowed_origins", "language", "web_root", "limits",
        ]
        #expect(nearestKey(to: typed, among: known) == meant)
    }

    @Test(arguments: [
        ("kitten", "sitting", 3), ("port", "prot", 1), ("", "abc", 3), ("title", "title", 0), ("limits", "limit", 1),
    ])
    func editDistanceCountsInsertionsDeletionsChangesAndSwaps(a: String, b: String, distance: Int) {
        #expect(editDistance(a, b) == distance)
        #expect(editDistance(b, a) == distance)
    }

    @Test(arguments: ["subtitle", "date", "organisers", "x"])
    func farMissesGetNoSuggestion(typed: String) {
        #expect(nearestKey(to: typed, among: ["title", "port", "host", "language", "limits"]) == nil)
    }
}

/// Issue 16: the `cluster` section (docs/SCALING.md) and the two-node example files.
@Suite("The cluster section")
struct ClusterConfigurationTests {
    static let good = """
    title: T
    cluster:
      redis: redis://:s3cret@127.0.0.1:6380/2
      event: pbl-nsob-2021-01-15
      node: node_1.a
      reuse_port: true
    """

    /// The one problem `yaml` gives (the test fails when there are more or none).
    static func problem(_ yaml: String) throws -> ConfigurationProblem {
        let error = try #require(problems(yaml), "the configuration should have been refused")
        try #require(error.problems.count == 1, "\(error)")
        return error.problems[0]
    }

    /// `title: T` and a cluster section with `redis`, `event`, `node` as given (nil: left out).
    static func section(redis: String? = "redis://127.0.0.1:6379/0", event: String? = "e1", node: String? = "a",
                        extra: String = "") -> String {
        var yaml = "title: T\ncluster:\n"
        if let redis { yaml += "  redis: \(redis)\n" }
        if let event { yaml += "  event: \(event)\n" }
        if let node { yaml += "  node: \(node)\n" }
        return yaml + extra
    }

    @Test func aGoodSectionParsesIntoClusterSettings() throws {
        let contents = try ConfigurationFile.parse(yaml: Self.good, environment: [:])
        #expect(contents.server.cluster == ClusterSettings(
            redis: "redis://:s3cret@127.0.0.1:6380/2", event: "pbl-nsob-2021-01-15", node: "node_1.a", reusePort: true))
    }

    @Test func reusePortIsOffUnlessSaid() throws {
        let contents = try ConfigurationFile.parse(yaml: Self.section(), environment: [:])
        #expect(contents.server.cluster == ClusterSettings(redis: "redis://127.0.0.1:6379/0", event: "e1", node: "a", reusePort: false))
        #expect(try ConfigurationFile.parse(yaml: "title: T\n", environment: [:]).server.cluster == nil)
    }

    @Test(arguments: [
        ("redis", "the Redis address is missing"), ("event", "the event name is missing"), ("node", "the node name is missing"),
    ])
    func aMissingRequiredKeyIsNamedWithItsPath(key: String, message: String) throws {
        let yaml = Self.section(redis: key == "redis" ? nil : "redis://127.0.0.1:6379/0",
                                event: key == "event" ? nil : "e1", node: key == "node" ? nil : "a")
        let problem = try Self.problem(yaml)
        #expect(problem.kind == .missingKey)
        #expect(problem.path == "cluster.\(key)")
        #expect(problem.message.contains(message), "\(problem.message)")
        #expect(problem.hint != nil)
    }

    @Test(arguments: [
        ("rediss://127.0.0.1:6379/0", "TLS is not supported yet"),
        ("ftp://127.0.0.1:6379/0", "only redis:// is supported"),
        ("redis://127.0.0.1:70000/0", "port \"70000\" is not a number from 1 to 65535"),
        ("redis://127.0.0.1:port/0", "port \"port\" is not a number from 1 to 65535"),
        ("127.0.0.1:6379", "must start with redis://"),
        ("redis://127.0.0.1:6379/zero", "database \"/zero\" is not a number"),
    ])
    func aBadRedisAddressIsRefusedWithItsReason(url: String, message: String) throws {
        let problem = try Self.problem(Self.section(redis: url))
        #expect(problem.kind == .invalidValue)
        #expect(problem.path == "cluster.redis")
        #expect(problem.line == 3)
        #expect(problem.message.contains(message), "\(problem.message)")
        #expect(problem.hint?.contains("redis://127.0.0.1:6379/0") == true)
    }

    @Test func aPasswordInABadRedisAddressIsNotRepeated() throws {
        let error = try #require(problems(Self.section(redis: "redis://:hunter2-secret@127.0.0.1:99999/0")))
        #expect(error.problems.map(\.path) == ["cluster.redis"])
        #expect(!error.description.contains("hunter2"), "\(error.description)")
    }

    @Test(arguments: [
        ("\"pbl nsob\"", "may hold only"), ("\"\"", "must not be empty"), (String(repeating: "e", count: 65), "must be 1 to 64 characters"),
        ("pbl/nsob", "may hold only"), ("\"{pbl}\"", "may hold only"), ("évènement", "may hold only"),
    ])
    func aBadEventNameIsRefused(name: String, message: String) throws {
        let problem = try Self.problem(Self.section(event: name))
        #expect(problem.path == "cluster.event")
        #expect(problem.line == 4)
        #expect(problem.message.contains(message), "\(problem.message)")
    }

    @Test(arguments: [
        ("\"node a\"", "may hold only"), ("\"\"", "must not be empty"), (String(repeating: "n", count: 33), "must be 1 to 32 characters"),
        ("a:b", "may hold only"),
    ])
    func aBadNodeNameIsRefused(name: String, message: String) throws {
        let problem = try Self.problem(Self.section(node: name))
        #expect(problem.path == "cluster.node")
        #expect(problem.line == 5)
        #expect(problem.message.contains(message), "\(problem.message)")
    }

    @Test func namesOfTheLongestLengthAreAccepted() throws {
        let contents = try ConfigurationFile.parse(
            yaml: Self.section(event: String(repeating: "e", count: 64), node: String(repeating: "n", count: 32)), environment: [:])
        #expect(contents.server.cluster?.event.count == 64)
        #expect(contents.server.cluster?.node.count == 32)
    }

    @Test(arguments: ["yes-please", "1", "[true]"])
    func reusePortMustBeABool(value: String) throws {
        let problem = try Self.problem(Self.section(extra: "  reuse_port: \(value)\n"))
        #expect(problem.kind == .wrongType)
        #expect(problem.path == "cluster.reuse_port")
        #expect(problem.message.contains("expected true or false"), "\(problem.message)")
    }

    @Test(arguments: [("reuseport", "reuse_port"), ("nodes", "node"), ("redis_url", "redis"), ("evnt", "event")])
    func anUnknownKeyInTheSectionGetsASuggestion(typed: String, meant: String) throws {
        let yaml = Self.section(extra: "  \(typed): x\n")
        let error = try #require(problems(yaml))
        let problem = try #require(error.problems.first { $0.kind == .unknownKey }, "\(error)")
        #expect(problem.path == "cluster.\(typed)")
        #expect(problem.line == 6)
        #expect(problem.message == "unknown key '\(typed)'")
        #expect(problem.hint?.contains("did you mean '\(meant)'?") == true, "\(problem.hint ?? "no hint")")
    }

    @Test func aClusterThatIsNotAMappingIsRefused() throws {
        let problem = try Self.problem("title: T\ncluster: redis://127.0.0.1:6379/0\n")
        #expect(problem.kind == .wrongType)
        #expect(problem.path == "cluster")
        #expect(problem.message.contains("expected a mapping"), "\(problem.message)")
    }

    @Test(arguments: ["a", "b"])
    func theTwoNodeExampleFilesDifferOnlyInNodeAndDatabase(node: String) throws {
        let path = repositoryRoot.appendingPathComponent("config/cluster-\(node).yaml").path
        let contents = try ConfigurationFile.load(path: path, environment: ["STELLING_MODERATOR_KEY": "a-key-for-both-nodes"])
        let seminar = try ConfigurationFile.load(path: repositoryRoot.appendingPathComponent("config/seminar.yaml").path,
                                                 environment: ["STELLING_MODERATOR_KEY": "a-key-for-both-nodes"])
        #expect(contents.server.cluster == ClusterSettings(redis: "redis://127.0.0.1:6380/0", event: "pbl-nsob-2021-01-15", node: node, reusePort: true))
        #expect(contents.server.port == 8080)
        #expect(URL(fileURLWithPath: contents.server.database).standardizedFileURL.path
                == repositoryRoot.appendingPathComponent("data/cluster-\(node).sqlite").standardizedFileURL.path)
        // The seminar's statements, groups, programme and limits; no retention (a node does not purge).
        var room = contents.room
        #expect(room.retentionDays == nil)
        room.retentionDays = seminar.room.retentionDays
        #expect(room == seminar.room)
    }
}
