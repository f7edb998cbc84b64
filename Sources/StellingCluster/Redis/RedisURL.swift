/// Where a cluster's Redis is: `redis://[[user]:password@]host[:port][/db]`, the value of `cluster.redis`.
///
/// The port defaults to 6379 and the database to 0; an IPv6 host is written in brackets
/// (`redis://[::1]:6379`). The user and password may be percent-encoded (`%40` for `@`). As in
/// `redis-cli -u`, a user part without a colon (`redis://secret@host`) is the password.
/// `rediss://` (TLS) is refused until TLS is added.
public struct RedisURL: Equatable, Sendable, CustomStringConvertible {
    /// The host name or address, without brackets for IPv6.
    public var host: String
    /// The TCP port. The default is 6379.
    public var port: Int
    /// The ACL user, if any (`AUTH user password`); nil means the default user.
    public var username: String?
    /// The password, if any (`AUTH`); never in `description`.
    public var password: String?
    /// The database number (`SELECT`). The default is 0.
    public var database: Int

    /// A URL from its parts.
    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`; every mistake gets a message that names
    /// it (and never repeats the password).
    public init(parsing text: String) throws(RedisURLError) {
        let scheme: Substring
        let rest: Substring
        if let range = text.firstRange(of: "://") {
            scheme = text[..<range.lowerBound]
            rest = text[range.upperBound...]
        } else {
            throw RedisURLError("the Redis URL must start with redis:// (redis://[[user]:password@]host[:port][/db])")
        }
        switch scheme.lowercased() {
        case "redis": break
        case "rediss": throw RedisURLError("rediss:// asks for TLS: TLS is not supported yet; use redis:// on a private network")
        default:
            throw RedisURLError("the Redis URL has the scheme \(scheme)://; only redis:// is supported (redis://[[user]:password@]host[:port][/db])")
        }
        if rest.contains("?") || rest.contains("#") {
            throw RedisURLError("the Redis URL has a query or fragment (? or #): not supported; give the database as /db")
        }
        // The user information ends at the last @ (a password may contain an encoded one only,
        // but take the last so that a raw @ in it still leaves the host intact).
        var authority: Substring
        var path: Substring = ""
        var username: String?
        var password: String?
        var remainder = rest
        if let at = remainder.lastIndex(of: "@") {
            let userinfo = remainder[..<at]
            remainder = remainder[remainder.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userinfo[..<colon], what: "user")
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], what: "password")
            } else {
                password = try Self.percentDecoded(userinfo, what: "password")
            }
            if password?.isEmpty ?? true {
                throw RedisURLError("the Redis URL has an empty password before @; leave out user:password@ when Redis needs none")
            }
        }
        if let slash = remainder.firstIndex(of: "/") {
            authority = remainder[..<slash]
            path = remainder[remainder.index(after: slash)...]
        } else {
            authority = remainder
        }
        // Host, with IPv6 in brackets.
        let host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw RedisURLError("the Redis URL's IPv6 host has no closing ]")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw RedisURLError("the Redis URL has something other than :port after the IPv6 host's ]")
                }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" }) else {
                throw RedisURLError("the Redis URL's IPv6 host in brackets is not an IPv6 address")
            }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            guard !host.isEmpty else { throw RedisURLError("the Redis URL has no host (redis://host:port)") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else {
                throw RedisURLError("the Redis URL's host \"\(host)\" is not a host name or address (IPv6 goes in brackets: [::1])")
            }
        }
        var port = 6379
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(portText), (1...65535).contains(value)
            else {
                throw RedisURLError("the Redis URL's port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = value
        }
        var database = 0
        if !path.isEmpty {
            guard path.count <= 9, path.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(path) else {
                throw RedisURLError("the Redis URL's database \"/\(path)\" is not a number from 0 (redis://host:port/db)")
            }
            database = value
        }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    /// The URL without the password, for logs and messages: `redis://host:port/db`
    /// (`redis://user@host:port/db` with an ACL user).
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let user = username.map { "\($0)@" } ?? ""
        return "redis://\(user)\(shownHost):\(port)/\(database)"
    }

    private static func percentDecoded(_ text: Substring, what: String) throws(RedisURLError) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                    throw RedisURLError("the Redis URL's \(what) has a % that is not followed by two hex digits")
                }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw RedisURLError("the Redis URL's \(what) is not UTF-8 once percent-decoded")
        }
        return decoded
    }
}

/// Why a Redis URL was refused; the description is the message for the user (without the password).
public struct RedisURLError: Error, Equatable, CustomStringConvertible {
    /// The message.
    public var description: String

    /// An error with this message.
    public init(_ description: String) { self.description = description }
}
