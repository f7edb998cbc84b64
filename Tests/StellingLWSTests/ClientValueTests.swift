import Testing
@testable import StellingLWS

/// The pure parts of the client, without sockets.
@Suite struct ClientValueTests {
    @Test(arguments: [
        ("{\"a\":1}", ["{\"a\":1}"]),
        ("{\"a\":1}\n{\"b\":2}", ["{\"a\":1}", "{\"b\":2}"]),
        ("\n{\"a\":1}\n\n{\"b\":2}\n", ["{\"a\":1}", "{\"b\":2}"]),
        ("{\"a\":1}\r\n{\"b\":2}", ["{\"a\":1}", "{\"b\":2}"]),
        ("", []),
    ])
    func serverMessagesSplitIntoEventsOnNewlines(message: String, events: [String]) {
        #expect(ClientConnection.splitEvents(message) == events)
    }

    @Test(arguments: [
        ("ws://127.0.0.1:8080/ws", WebSocketURL(host: "127.0.0.1", port: 8080, path: "/ws")),
        ("ws://localhost", WebSocketURL(host: "localhost", port: 80, path: "/")),
        ("ws://[::1]:9000/ws?x=1", WebSocketURL(host: "::1", port: 9000, path: "/ws?x=1")),
        ("wss://127.0.0.1/ws", WebSocketURL(host: "127.0.0.1", port: 443, path: "/ws", secure: true)),
        ("wss://[::1]:8443", WebSocketURL(host: "::1", port: 8443, path: "/", secure: true)),
        ("http://127.0.0.1/ws", nil),
        ("ws://127.0.0.1:0/ws", nil),
        ("ws://127.0.0.1:http/ws", nil),
        ("ws://:80/ws", nil),
    ])
    func urlsAreParsedIntoHostPortAndPath(text: String, expected: WebSocketURL?) {
        #expect(WebSocketURL(text) == expected)
    }
}

extension WebSocketURL {
    init(host: String, port: Int32, path: String, secure: Bool = false) {
        self.init("ws://x")!
        self.host = host
        self.port = port
        self.path = path
        self.secure = secure
    }
}
