/// The HTTP decisions of the server that need no socket: which requests are refused before
/// the handler sees them, which headers a response gets, and how a body is cut into writes.
enum HTTPReply {
    /// The answer given before the handler sees a request, or nil to go on. `method` is
    /// "GET", "HEAD" or nil for any other. Each refusal closes the connection afterwards.
    static func refusal(method: String?, admission: ConnectionLimiter.Admission, shuttingDown: Bool) -> HTTPResponse? {
        switch admission {
        case .overTotal: return .serverFull
        case .overAddress: return .addressFull
        case .admitted, .drop: break
        }
        guard method != nil else {
            // A body may follow: answer and close rather than parse it as the next request.
            return HTTPResponse(status: 405, contentType: "text/plain; charset=utf-8",
                                headers: [HTTPHeader("Allow", "GET, HEAD")],
                                body: Array("method not allowed\n".utf8))
        }
        if shuttingDown { return .text("shutting down\n", status: 503) }
        return nil
    }

    /// The headers a response carries beyond status, Content-Type and Content-Length, and
    /// beyond those lws adds to every response: Cache-Control unless the response has one,
    /// the default CSP unless it has its own, and "Connection: close" when `closeAfter`.
    static func extraHeaders(_ response: HTTPResponse, closeAfter: Bool) -> [HTTPHeader] {
        var extra = response.headers
        if !extra.contains(where: { $0.name.lowercased() == "cache-control" }) {
            extra.append(HTTPHeader("Cache-Control", "no-cache"))
        }
        if !extra.contains(where: { $0.name.lowercased() == "content-security-policy" }) {
            extra.append(HTTPHeader("Content-Security-Policy", SecurityHeaders.contentSecurityPolicy))
        }
        if closeAfter { extra.append(HTTPHeader("Connection", "close")) }
        return extra
    }

    /// Room enough for the status line and every header: the fixed ones lws adds, `extra`,
    /// and lws' own (date, server, content type and length).
    static func headerSpace(_ response: HTTPResponse, extra: [HTTPHeader], fixed: [HTTPHeader]) -> Int {
        let sizes = (fixed + extra).reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 8 }
        return 768 + response.contentType.utf8.count + sizes
    }
}

extension HTTPResponse {
    /// 503 with `Retry-After`: the server holds its total of connections.
    static let serverFull = HTTPResponse(
        status: 503, contentType: "text/plain; charset=utf-8", headers: [HTTPHeader("Retry-After", "30")],
        body: Array("The server is full. Please try again in a minute.\n".utf8))

    /// 429 with `Retry-After`: the address holds its share of connections.
    static let addressFull = HTTPResponse(
        status: 429, contentType: "text/plain; charset=utf-8", headers: [HTTPHeader("Retry-After", "30")],
        body: Array("Too many connections from your address. Please try again in a minute.\n".utf8))
}

/// An HTTP response body being written in chunks across HTTP_WRITEABLE callbacks.
struct HTTPTransfer: Equatable {
    /// The largest piece written per callback.
    static let chunkBytes = 16 << 10

    var body: [UInt8]
    var offset = 0
    /// Close the connection after the body instead of keeping it alive.
    var closeAfter: Bool

    /// The next piece to write and whether it is the last (written with LWS_WRITE_HTTP_FINAL);
    /// moves past it.
    mutating func nextChunk() -> (range: Range<Int>, final: Bool) {
        let end = min(offset + Self.chunkBytes, body.count)
        defer { offset = end }
        return (offset..<end, end == body.count)
    }
}
