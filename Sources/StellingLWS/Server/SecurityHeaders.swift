/// The security headers on every HTTP response (OWASP secure headers). The pages in `web/`
/// load only their own scripts, styles and images, open a WebSocket to the same host, and
/// never need framing: the policy says exactly that.
public enum SecurityHeaders {
    /// The default Content-Security-Policy. A dynamic `HTTPResponse` may carry its own
    /// `Content-Security-Policy` header, which then replaces this one (report.html needs a
    /// `style-src 'sha256-…'` for its inline style).
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    /// HSTS, sent only over TLS: one year.
    public static let strictTransportSecurity = "max-age=31536000"

    /// The headers sent on every response besides the CSP, as (name, value). With TLS,
    /// `Strict-Transport-Security` too.
    public static func fixed(tls: Bool) -> [HTTPHeader] {
        var headers = [
            HTTPHeader("X-Content-Type-Options", "nosniff"),
            HTTPHeader("Referrer-Policy", "no-referrer"),
            HTTPHeader("X-Frame-Options", "DENY"),
        ]
        if tls { headers.append(HTTPHeader("Strict-Transport-Security", strictTransportSecurity)) }
        return headers
    }
}
