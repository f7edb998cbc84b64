/// Decides whether a WebSocket upgrade's `Origin` may connect: the defence against
/// Cross-Site WebSocket Hijacking (a page elsewhere opening a socket with the visitor's
/// cookies or network position). Pure: no sockets, tested as a value.
///
/// - No `Origin` header: allowed. Browsers always send one on a WebSocket upgrade; clients
///   without one (the load tool, scripts) are not a hijacking risk.
/// - `allowedOrigins` empty: the Origin's host[:port] must equal the request's `Host`.
/// - Otherwise the Origin must equal one of `allowedOrigins`.
///
/// Comparison ignores ASCII case, a trailing "/", and a port that is the scheme's default
/// (`https://x:443` equals `https://x`). `Origin: null` (sandboxed frames, files) is refused
/// unless "null" is listed.
public struct OriginPolicy: Sendable, Equatable {
    /// The normalised allowed origins; empty means "same host as the request".
    public let allowedOrigins: [String]

    /// Makes a policy from configured origins such as `https://stelling.example.nl`.
    public init(allowedOrigins: [String]) {
        self.allowedOrigins = allowedOrigins.map { Self.normalise($0) }
    }

    /// Whether an upgrade with this `Origin` header value and `Host` header value may proceed.
    public func allows(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        let normalised = Self.normalise(origin)
        if !allowedOrigins.isEmpty { return allowedOrigins.contains(normalised) }
        guard let host, let (scheme, authority) = Self.split(normalised) else { return false }
        return authority == Self.normaliseAuthority(host.lowercased(), scheme: scheme)
    }

    /// Lower case, no trailing "/", no default port.
    static func normalise(_ origin: String) -> String {
        var text = origin.trimmingSpaces().lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        guard let (scheme, authority) = split(text) else { return text }
        return scheme + "://" + normaliseAuthority(authority, scheme: scheme)
    }

    /// ("https", "host:port") from "https://host:port"; nil for anything else ("null").
    private static func split(_ origin: String) -> (String, String)? {
        guard let range = origin.range(of: "://") else { return nil }
        let scheme = String(origin[..<range.lowerBound])
        let authority = String(origin[range.upperBound...])
        guard !scheme.isEmpty, !authority.isEmpty, !authority.contains("/") else { return nil }
        return (scheme, authority)
    }

    /// Drops ":80" for http/ws and ":443" for https/wss.
    private static func normaliseAuthority(_ authority: String, scheme: String) -> String {
        let defaultPort: String
        switch scheme {
        case "http", "ws": defaultPort = ":80"
        case "https", "wss": defaultPort = ":443"
        default: return authority
        }
        return authority.hasSuffix(defaultPort) ? String(authority.dropLast(defaultPort.count)) : authority
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
