import StellingCore

/// What the transport tells the application. Every method is called on the service thread.
///
/// The handler answers by calling `WebSocketServer.send`, `sendLatest` and `close`, also on
/// the service thread (directly from these methods, or from an actor whose executor is
/// `WebSocketServer.loop`).
public protocol TransportHandler: AnyObject {
    /// A WebSocket connection completed its upgrade on `GET /ws`. `peer` is the client's
    /// address (behind a trusted proxy the one `X-Forwarded-For` names; TrustedProxies).
    func connectionOpened(_ id: ConnectionID, peer: String, origin: String?)
    /// One complete text message arrived: reassembled, valid UTF-8, within the size limit.
    func messageReceived(_ id: ConnectionID, text: [UInt8])
    /// A connection that was opened is gone; nothing more can be sent to it.
    func connectionClosed(_ id: ConnectionID)
    /// Called every tick interval with the wall-clock time in milliseconds since 1970.
    func tick(nowMilliseconds: Int64)
    /// Answers a dynamic HTTP endpoint, or returns nil to fall through to the static files (then 404).
    func httpRequest(_ request: HTTPRequest) -> HTTPResponse?
    /// Takes a request whose answer is made off the service thread (a large export): return
    /// true and call `reply` exactly once, from any thread. The default takes none.
    func httpRequestLater(_ request: HTTPRequest, reply: @escaping @Sendable (HTTPResponse) -> Void) -> Bool
}

extension TransportHandler {
    /// Takes no request: every answer is made at once by `httpRequest`.
    public func httpRequestLater(_ request: HTTPRequest, reply: @escaping @Sendable (HTTPResponse) -> Void) -> Bool { false }
}

/// A latest-value event kind: a connection holds at most one pending value per slot
/// (StellingCore's `tally` and `presence`).
public typealias LatestSlot = LatestValueSlot

/// An HTTP request as the handler sees it.
public struct HTTPRequest: Sendable, Equatable {
    /// "GET" or "HEAD"; other methods get 405 without reaching the handler.
    public var method: String
    /// The path, percent-decoded by libwebsockets, without the query: "/export/votes.csv".
    public var path: String
    /// The query's name=value pairs, each percent-decoded, joined by "&"; empty when there is none.
    public var query: String
    /// The `Authorization` header, if the request had one.
    public var authorization: String?
    /// The `Host` header, if the request had one (the join code's address without `public_url`).
    public var host: String?
    /// Whether the request came over TLS (this server serves HTTPS).
    public var secure: Bool
    /// The client's address (behind a trusted proxy the one `X-Forwarded-For` names), for
    /// per-address rules; "unknown" when it could not be read.
    public var clientAddress: String

    /// Makes a request value (the server builds these; tests may too).
    public init(method: String, path: String, query: String = "", authorization: String? = nil,
                host: String? = nil, secure: Bool = false, clientAddress: String = "unknown") {
        self.method = method
        self.path = path
        self.query = query
        self.authorization = authorization
        self.host = host
        self.secure = secure
        self.clientAddress = clientAddress
    }
}

/// An HTTP response: sent with a Content-Length, the body in chunks of about 16 KB.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code, such as 200 or 401.
    public var status: Int
    /// The Content-Type header's value.
    public var contentType: String
    /// More headers, as (name, value); names are sent in lower case.
    public var headers: [HTTPHeader]
    /// The body. For HEAD only its length is sent.
    public var body: [UInt8]

    /// Makes a response.
    public init(status: Int, contentType: String, headers: [HTTPHeader] = [], body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// A response with a UTF-8 text body.
    public static func text(_ text: String, status: Int = 200,
                            contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, contentType: contentType, body: Array(text.utf8))
    }
}

/// One extra response header.
public struct HTTPHeader: Sendable, Equatable {
    /// The header's name, such as "WWW-Authenticate".
    public var name: String
    /// The header's value.
    public var value: String

    /// Makes a header.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
