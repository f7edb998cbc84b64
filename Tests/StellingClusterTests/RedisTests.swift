import Foundation
import StellingCluster
import StellingTesting
import Testing

@Suite struct RedisURLTests {
    struct Good: Sendable, CustomStringConvertible {
        let text: String
        let url: RedisURL
        var description: String { text }
    }

    static let good: [Good] = [
        Good(text: "redis://localhost", url: RedisURL(host: "localhost", port: 6379, database: 0)),
        Good(text: "redis://127.0.0.1:6380/3", url: RedisURL(host: "127.0.0.1", port: 6380, database: 3)),
        Good(text: "redis://10.0.0.5:7000/", url: RedisURL(host: "10.0.0.5", port: 7000, database: 0)),
        Good(text: "redis://:s3cret@redis.internal:6379/2", url: RedisURL(host: "redis.internal", password: "s3cret", database: 2)),
        Good(text: "redis://alice:s3cret@redis-1", url: RedisURL(host: "redis-1", username: "alice", password: "s3cret")),
        Good(text: "redis://s3cret@redis-1", url: RedisURL(host: "redis-1", password: "s3cret")),
        Good(text: "redis://:p%40ss%3Aword@host", url: RedisURL(host: "host", password: "p@ss:word")),
        Good(text: "redis://[::1]:7001/1", url: RedisURL(host: "::1", port: 7001, database: 1)),
        Good(text: "redis://[::1]", url: RedisURL(host: "::1")),
        Good(text: "REDIS://Host", url: RedisURL(host: "Host")),
    ]

    @Test(arguments: good)
    func aGoodURLGivesItsParts(_ good: Good) throws {
        #expect(try RedisURL(parsing: good.text) == good.url)
    }

    static let bad: [(String, String)] = [
        ("rediss://host:6379", "TLS is not supported yet; use redis:// on a private network"),
        ("http://host:6379", "only redis:// is supported"),
        ("host:6379", "must start with redis://"),
        ("redis://", "has no host"),
        ("redis://:pw@:6379", "has no host"),
        ("redis://host:0", "port \"0\" is not a number from 1 to 65535"),
        ("redis://host:65536", "port \"65536\" is not a number from 1 to 65535"),
        ("redis://host:abc", "port \"abc\""),
        ("redis://host:", "port \"\""),
        ("redis://host/x", "database \"/x\" is not a number"),
        ("redis://host/-1", "database \"/-1\" is not a number"),
        ("redis://host/1/2", "database \"/1/2\" is not a number"),
        ("redis://[::1:6379", "no closing ]"),
        ("redis://[::1]6379", "other than :port"),
        ("redis://[nothost]:1", "is not an IPv6 address"),
        ("redis://ho st:1", "is not a host name"),
        ("redis://host?db=1", "query or fragment"),
        ("redis://:@host", "empty password"),
        ("redis://alice:@host", "empty password"),
        ("redis://:%zz@host", "% that is not followed by two hex digits"),
    ]

    @Test(arguments: bad)
    func aBadURLIsRefusedWithAMessageThatNamesTheMistake(_ text: String, _ expected: String) {
        #expect {
            _ = try RedisURL(parsing: text)
        } throws: { error in
            (error as? RedisURLError)?.description.contains(expected) ?? false
        }
    }

    @Test func theDescriptionHidesThePassword() throws {
        let url = try RedisURL(parsing: "redis://alice:s3cret@redis-1:6380/2")
        #expect(url.description == "redis://alice@redis-1:6380/2")
        #expect(try RedisURL(parsing: "redis://:s3cret@[::1]/4").description == "redis://[::1]:6379/4")
        #expect(try RedisURL(parsing: "redis://127.0.0.1").description == "redis://127.0.0.1:6379/0")
    }

    @Test func anErrorNeverRepeatsThePassword() {
        do {
            _ = try RedisURL(parsing: "redis://:s3cret@host:99999/0")
            Issue.record("a bad port was accepted")
        } catch {
            #expect(error.description.contains("99999"))
            #expect(!error.description.contains("s3cret"))
        }
    }
}

/// Against real `redis-server` processes (one each, on a free loopback port).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RedisConnectionTests {
    static func connect(_ server: RedisServer, commandTimeout: Duration = .seconds(5)) throws -> RedisConnection {
        try RedisConnection(url: RedisURL(parsing: server.url), commandTimeout: commandTimeout)
    }

    @Test func pingAnswersPong() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        #expect(try redis.command("PING") == .string("PONG"))
        #expect(try redis.command("PING").text == "PONG")
        #expect(!redis.isBroken)
    }

    @Test func aBinaryValueWithZeroBytesComesBackIntact() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        let key: [UInt8] = [0x6B, 0x00, 0x01]
        let value: [UInt8] = [0x00, 0xFF, 0x00, 0x0D, 0x0A, 0x00]
        #expect(try redis.command([Array("SET".utf8), key, value]) == .string("OK"))
        #expect(try redis.command([Array("GET".utf8), key]) == .string(value))
        #expect(try redis.command([Array("STRLEN".utf8), key]) == .integer(6))
        #expect(try redis.command("GET", "missing") == .null)
        #expect(try redis.command([Array("SET".utf8), Array("empty".utf8), []]) == .string("OK"))
        #expect(try redis.command("GET", "empty") == .string([]))
    }

    @Test func aValueOfAMebibyteAndANegativeIntegerComeBackIntact() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        let value = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(try redis.command([Array("SET".utf8), Array("big".utf8), value]) == .string("OK"))
        #expect(try redis.command([Array("GET".utf8), Array("big".utf8)]) == .string(value))
        #expect(try redis.command("INCRBY", "n", "-5") == .integer(-5))
        #expect(try redis.command("INCRBY", "n", "9223372036854775812") == .error("ERR value is not an integer or out of range"))
    }

    @Test func aPipelineOfAThousandIncrementsReturnsOneToAThousandInOrder() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        let increment = ["INCR", "counter"].map { Array($0.utf8) }
        let replies = try redis.pipeline(Array(repeating: increment, count: 1000))
        #expect(replies == (1...1000).map { RedisReply.integer(Int64($0)) })
        #expect(try redis.pipeline([]) == [])
    }

    @Test func anEntryAddedToAStreamReadsBackFromTheRange() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        let payload: [UInt8] = [0x7B, 0x00, 0x7D]
        let added = try redis.command([Array("XADD".utf8), Array("records".utf8), Array("*".utf8), Array("r".utf8), payload])
        let id = try #require(added.text)
        #expect(id.contains("-"))
        let range = try redis.command("XRANGE", "records", "-", "+")
        #expect(range == .array([.array([.string(id), .array([.string("r"), .string(payload)])])]))
    }

    @Test func anErrorReplyIsAValueAndTheConnectionStaysUsable() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        _ = try redis.command("SET", "k", "v")
        let reply = try redis.command("LPUSH", "k", "x")
        guard case .error(let message) = reply else {
            Issue.record("expected an error reply, got \(reply)")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(!redis.isBroken)
        #expect(try redis.command("GET", "k") == .string("v"))
        // A pipeline carries an error reply in its place.
        let replies = try redis.pipeline([["GET", "k"], ["NOSUCHCOMMAND"], ["PING"]].map { $0.map { Array($0.utf8) } })
        #expect(replies.count == 3)
        #expect(replies[0] == .string("v"))
        if case .error(let unknown) = replies[1] { #expect(unknown.contains("unknown command")) } else { Issue.record("\(replies[1])") }
        #expect(replies[2] == .string("PONG"))
    }

    @Test func aCommandWithoutANameIsRefusedAndTheConnectionStaysUsable() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        #expect(throws: RedisError.self) { try redis.command([] as [[UInt8]]) }
        #expect(throws: RedisError.self) { try redis.pipeline([[Array("PING".utf8)], []]) }
        #expect(!redis.isBroken)
        #expect(try redis.command("PING") == .string("PONG"))
    }

    @Test func theRightPasswordLogsInAndAWrongOneIsAClearError() throws {
        let server = try RedisServer(password: "s3cret pass")
        let redis = try Self.connect(server)
        #expect(try redis.command("PING") == .string("PONG"))

        var url = try RedisURL(parsing: server.url)
        #expect(url.password == "s3cret pass")
        url.password = "wrong-one"
        do {
            _ = try RedisConnection(url: url)
            Issue.record("a wrong password connected")
        } catch {
            #expect(error.kind == .connect)
            #expect(error.description.contains("Redis at redis://127.0.0.1:\(server.port)/0 refused the login"))
            #expect(error.description.contains("WRONGPASS"))
            #expect(!error.description.contains("wrong-one"))
        }

        url.password = nil
        do {
            _ = try RedisConnection(url: url)
            Issue.record("no password connected to a server that needs one")
        } catch {
            #expect(error.description.contains("NOAUTH"))
            #expect(error.description.contains("127.0.0.1:\(server.port)"))
        }
    }

    @Test func anACLUserLogsInWithUserAndPassword() throws {
        let server = try RedisServer()
        let admin = try Self.connect(server)
        #expect(try admin.command("ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "+@all") == .string("OK"))
        let alice = try RedisConnection(url: RedisURL(parsing: "redis://alice:alice-pw@127.0.0.1:\(server.port)"))
        #expect(try alice.command("ACL", "WHOAMI") == .string("alice"))
    }

    @Test func databaseThreeKeepsItsKeysApartFromDatabaseZero() throws {
        let server = try RedisServer()
        let zero = try Self.connect(server)
        let three = try RedisConnection(url: RedisURL(parsing: "redis://127.0.0.1:\(server.port)/3"))
        #expect(try zero.command("SET", "shared", "in zero") == .string("OK"))
        #expect(try three.command("GET", "shared") == .null)
        #expect(try three.command("SET", "shared", "in three") == .string("OK"))
        #expect(try zero.command("GET", "shared") == .string("in zero"))
        #expect(try three.command("GET", "shared") == .string("in three"))
        #expect(try three.command("DBSIZE") == .integer(1))
    }

    @Test func aDatabaseRedisDoesNotHaveIsAConnectError() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: "redis://127.0.0.1:\(server.port)/999")
        do {
            _ = try RedisConnection(url: url)
            Issue.record("database 999 was selected")
        } catch {
            #expect(error.kind == .connect)
            #expect(error.description.contains("refused SELECT"))
        }
    }

    @Test func theDurabilityCheckPassesOnAppendfsyncAlways() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        try RedisDurability.check(RedisConnection(url: url), url: url)
    }

    @Test func theDurabilityCheckRefusesAppendfsyncEverysec() throws {
        let server = try RedisServer(appendfsync: "everysec")
        let url = try RedisURL(parsing: server.url)
        let redis = try RedisConnection(url: url)
        do {
            try RedisDurability.check(redis, url: url)
            Issue.record("everysec passed")
        } catch {
            #expect(error.kind == .refused)
            #expect(error.description == "Redis at redis://127.0.0.1:\(server.port)/0 has appendfsync everysec: a cluster needs appendonly yes and appendfsync always, or a crash of Redis can lose acknowledged records. Set them in redis.conf or with CONFIG SET.")
        }
        #expect(!redis.isBroken)
    }

    @Test func theDurabilityCheckRefusesARedisWithoutTheAOF() throws {
        let server = try RedisServer(appendonly: false)
        let url = try RedisURL(parsing: server.url)
        do {
            try RedisDurability.check(RedisConnection(url: url), url: url)
            Issue.record("appendonly no passed")
        } catch {
            #expect(error.description.hasPrefix("Redis at redis://127.0.0.1:\(server.port)/0 has appendonly no: a cluster needs appendonly yes and appendfsync always"))
        }
    }

    @Test func theDurabilityCheckNamesEveryWrongSetting() throws {
        let server = try RedisServer(appendfsync: "no", appendonly: false)
        let url = try RedisURL(parsing: server.url)
        do {
            try RedisDurability.check(RedisConnection(url: url), url: url)
            Issue.record("appendonly no and appendfsync no passed")
        } catch {
            #expect(error.description.hasPrefix("Redis at redis://127.0.0.1:\(server.port)/0 has appendonly no and appendfsync no: a cluster needs"))
        }
    }

    @Test func theDurabilityCheckSaysSoWhenConfigIsNotAllowed() throws {
        let server = try RedisServer()
        let admin = try Self.connect(server)
        #expect(try admin.command("ACL", "SETUSER", "app", "on", ">app-pw", "~*", "+@all", "-config") == .string("OK"))
        let url = try RedisURL(parsing: "redis://app:app-pw@127.0.0.1:\(server.port)/0")
        do {
            try RedisDurability.check(RedisConnection(url: url), url: url)
            Issue.record("the check passed without CONFIG")
        } catch {
            #expect(error.description.contains("Redis at redis://app@127.0.0.1:\(server.port)/0 does not allow CONFIG GET appendonly"))
            #expect(error.description.contains("NOPERM"))
            #expect(!error.description.contains("app-pw"))
        }
    }

    @Test func aCommandToAPausedServerTimesOutAndBreaksTheConnection() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server, commandTimeout: .milliseconds(300))
        #expect(try redis.command("PING") == .string("PONG"))
        server.pause()
        defer { server.resume() }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try redis.command("SET", "k", "v")
            Issue.record("a paused server answered")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.description.contains("no reply from Redis at redis://127.0.0.1:\(server.port)/0 within 300 ms"))
        }
        // Bounded: the timeout, not a hang (generous for a loaded machine).
        #expect(clock.now - start < .seconds(5))
        #expect(redis.isBroken)
        server.resume()
        #expect(throws: RedisError.self) { try redis.command("PING") }
        #expect(try Self.connect(server).command("PING") == .string("PONG"))
    }

    @Test func aLongerTimeoutLetsABlockingReadWaitForItsEnd() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server, commandTimeout: .milliseconds(100))
        redis.setCommandTimeout(.seconds(3))
        #expect(try redis.command("XREAD", "BLOCK", "300", "STREAMS", "nothing", "$") == .null)
        redis.setCommandTimeout(.milliseconds(100))
        #expect(try redis.command("PING") == .string("PONG"))
        #expect(!redis.isBroken)
    }

    @Test func aKilledServerBreaksTheConnectionWithAClearError() throws {
        let server = try RedisServer()
        let redis = try Self.connect(server)
        server.kill()
        #expect(throws: RedisError.self) { try redis.command("PING") }
        #expect(redis.isBroken)
    }

    /// Proves the AOF is on and replayed after a crash of Redis. A SIGKILL keeps what Redis wrote to
    /// the kernel, so this does not tell `always` from `everysec`; only a machine crash would, which
    /// the durability check covers by refusing anything but `always`.
    @Test func anEntryAddedWithAppendfsyncAlwaysSurvivesAKillAndARestart() throws {
        let server = try RedisServer()
        let id: String
        do {
            let redis = try Self.connect(server)
            id = try #require(try redis.command("XADD", "records", "*", "r", "acknowledged").text)
        }
        server.kill()
        try server.restart()
        let redis = try Self.connect(server)
        #expect(try redis.command("XRANGE", "records", "-", "+") == .array([.array([.string(id), .array([.string("r"), .string("acknowledged")])])]))
    }

    @Test func anIPv6LoopbackURLInBracketsConnects() throws {
        let server = try RedisServer(bind: ["127.0.0.1", "::1"])
        let url = try RedisURL(parsing: "redis://[::1]:\(server.port)/1")
        let redis = try RedisConnection(url: url)
        #expect(try redis.command("SET", "over", "ipv6") == .string("OK"))
        let info = try #require(try redis.command("CLIENT", "INFO").text)
        #expect(info.contains(" laddr=[::1]:\(server.port) "))
        #expect(info.contains(" db=1 "))
    }

    @Test func theTestRedisKeepsNoneOfTheTestsDescriptorsOpen() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let server = try RedisServer()
        close(ends[1])
        // The writing end closed here and not held by redis-server: the reader sees the end.
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        var byte: UInt8 = 0
        #expect(read(ends[0], &byte, 1) == 0)
        #expect(try Self.connect(server).command("PING") == .string("PONG"))
    }

    @Test func aStoppedTestRedisEndsOnSIGTERMAndARestartServesAgain() throws {
        let server = try RedisServer()
        _ = try Self.connect(server).command("SET", "k", "v")
        let clock = ContinuousClock()
        let start = clock.now
        server.stop()
        // SIGTERM, not the 10 s fallback to SIGKILL (a blocked SIGTERM in the child would take 10 s).
        #expect(clock.now - start < .seconds(5))
        #expect(throws: RedisError.self) { try Self.connect(server) }
        try server.restart()
        #expect(try Self.connect(server).command("GET", "k") == .string("v"))
    }

    @Test func connectingToAClosedPortFailsWithTheURLInTheMessage() throws {
        let port = try freePort()
        let url = try RedisURL(parsing: "redis://:hidden@127.0.0.1:\(port)/2")
        do {
            _ = try RedisConnection(url: url, connectTimeout: .seconds(1))
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.kind == .connect)
            #expect(error.description.contains("cannot connect to Redis at redis://127.0.0.1:\(port)/2"))
            #expect(!error.description.contains("hidden"))
        }
    }
}
