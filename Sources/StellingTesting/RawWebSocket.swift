#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A deliberately small HTTP/WebSocket client on a blocking loopback TCP socket, for driving
/// the server frame by frame: masked frames of any opcode, fragments, pings left unanswered.
/// Every read has a deadline. (The full client on libwebsockets lives elsewhere.)
public final class RawWebSocket {
    /// A failed read, write or handshake; "timeout" when a deadline passed.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String

        /// A failure saying `description`.
        public init(description: String) { self.description = description }
    }

    /// One WebSocket frame as received.
    public struct Frame {
        /// Whether this is the last frame of its message.
        public var fin: Bool
        /// The frame's opcode (see `Opcode`).
        public var opcode: UInt8
        /// The unmasked payload.
        public var payload: [UInt8]

        /// The close code of a close frame, if it has one.
        public var closeCode: UInt16? {
            guard opcode == Opcode.close, payload.count >= 2 else { return nil }
            return UInt16(payload[0]) << 8 | UInt16(payload[1])
        }

        /// The payload as UTF-8 text.
        public var text: String { String(decoding: payload, as: UTF8.self) }
    }

    /// The WebSocket opcodes (RFC 6455, 5.2).
    public enum Opcode {
        /// A continuation frame.
        public static let continuation: UInt8 = 0x0
        /// A text frame.
        public static let text: UInt8 = 0x1
        /// A binary frame.
        public static let binary: UInt8 = 0x2
        /// A close frame.
        public static let close: UInt8 = 0x8
        /// A ping.
        public static let ping: UInt8 = 0x9
        /// A pong.
        public static let pong: UInt8 = 0xA
    }

    /// An HTTP response as received.
    public struct HTTPResult {
        /// The status code.
        public var status: Int
        /// The headers, names in lower case (the last of duplicates).
        public var headers: [String: String]
        /// The body.
        public var body: [UInt8]
        /// Every header line as received, in order (names in lower case), duplicates kept.
        public var fields: [(name: String, value: String)] = []

        /// How many times the header `name` (lower case) appears.
        public func count(_ name: String) -> Int { fields.count { $0.name == name } }
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The header lines of the last response head read.
    public private(set) var lastFields: [(name: String, value: String)] = []

    private let fd: Int32
    private var buffer: [UInt8] = []
    /// The response headers of the upgrade (names in lower case).
    public private(set) var handshakeHeaders: [String: String] = [:]

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        Glibc.close(fd)
    }

    /// Opens a TCP connection to 127.0.0.1:`port`, from `source` (another loopback address,
    /// such as 127.0.0.2) when given; with `receiveBuffer`, a small SO_RCVBUF first.
    public static func connect(port: Int, source: String? = nil, receiveBuffer: Int32? = nil) throws -> RawWebSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                Glibc.close(fd)
                throw Failure(description: "bind \(source): errno \(errno)")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect: errno \(code)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return RawWebSocket(fd: fd)
    }

    /// One HTTP/1.1 GET (or HEAD) on a fresh connection; reads the body by its Content-Length.
    public static func http(port: Int, method: String = "GET", path: String, headers: [String: String] = [:],
                     source: String? = nil, timeout: Double = 5) throws -> HTTPResult {
        let client = try connect(port: port, source: source)
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try client.write(Array((request + "\r\n").utf8))
        let deadline = now() + timeout
        let (status, responseHeaders) = try client.readHead(deadline: deadline)
        let length = Int(responseHeaders["content-length"] ?? "0") ?? 0
        let bodyLength = method == "HEAD" ? 0 : length
        while client.buffer.count < bodyLength {
            guard try client.fill(deadline: deadline) else { throw Failure(description: "EOF in body") }
        }
        return HTTPResult(status: status, headers: responseHeaders, body: Array(client.buffer.prefix(bodyLength)),
                          fields: client.lastFields)
    }

    /// One keep-alive GET on this connection; reads the body by its Content-Length.
    public func get(_ path: String, port: Int, timeout: Double = 5) throws -> HTTPResult {
        try write(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
        let deadline = RawWebSocket.now() + timeout
        let (status, headers) = try readHead(deadline: deadline)
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length {
            guard try fill(deadline: deadline) else { throw Failure(description: "EOF in body") }
        }
        let body = Array(buffer.prefix(length))
        buffer.removeFirst(length)
        return HTTPResult(status: status, headers: headers, body: body, fields: lastFields)
    }

    /// Connects and upgrades `path`; returns the client and the response status (101 on success).
    public static func open(port: Int, path: String = "/ws", subprotocols: [String]? = ["stelling.v1"],
                     origin: String? = nil, host: String? = nil, source: String? = nil,
                     receiveBuffer: Int32? = nil, extensions: String? = nil, headers: [String: String] = [:],
                     timeout: Double = 5) throws -> (RawWebSocket, Int) {
        let client = try connect(port: port, source: source, receiveBuffer: receiveBuffer)
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nUpgrade: websocket\r\n"
        request += "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let subprotocols { request += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        if let origin { request += "Origin: \(origin)\r\n" }
        if let extensions { request += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try client.write(Array((request + "\r\n").utf8))
        let (status, headers) = try client.readHead(deadline: now() + timeout)
        client.handshakeHeaders = headers
        client.handshakeStatus = status
        return (client, status)
    }

    /// The status of the upgrade's answer.
    public private(set) var handshakeStatus = 0

    /// The body of a refused upgrade, read by its Content-Length.
    public func refusalBody(timeout: Double = 5) throws -> String {
        let length = Int(handshakeHeaders["content-length"] ?? "0") ?? 0
        let deadline = RawWebSocket.now() + timeout
        while buffer.count < length {
            guard try fill(deadline: deadline) else { throw Failure(description: "EOF in body") }
        }
        return String(decoding: buffer.prefix(length), as: UTF8.self)
    }

    /// Sends one masked frame.
    public func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        try write(frame)
    }

    /// Sends a text message in one frame.
    public func sendText(_ text: String) throws {
        try sendFrame(opcode: Opcode.text, Array(text.utf8))
    }

    /// Sends a close frame with `code`.
    public func sendClose(code: UInt16 = 1000) throws {
        try sendFrame(opcode: Opcode.close, [UInt8(code >> 8), UInt8(code & 0xFF)])
    }

    /// Reads the next frame; nil when the server closed the TCP connection.
    public func readFrame(timeout: Double = 5) throws -> Frame? {
        let deadline = RawWebSocket.now() + timeout
        while true {
            if let frame = parseFrame() { return frame }
            guard try fill(deadline: deadline) else { return nil }
        }
    }

    /// Reads until a complete text message arrives, answering pings unless told not to;
    /// nil when a close frame or the end of the connection comes first.
    public func readText(timeout: Double = 5, answerPings: Bool = true) throws -> String? {
        let deadline = RawWebSocket.now() + timeout
        var message: [UInt8] = []
        while true {
            guard let frame = try readFrame(timeout: max(0, deadline - RawWebSocket.now())) else { return nil }
            switch frame.opcode {
            case Opcode.ping:
                if answerPings { try sendFrame(opcode: Opcode.pong, frame.payload) }
            case Opcode.text, Opcode.continuation:
                message += frame.payload
                if frame.fin { return String(decoding: message, as: UTF8.self) }
            case Opcode.close:
                return nil
            default:
                break
            }
        }
    }

    /// Reads past data until a close frame arrives and returns its code (nil without a code);
    /// throws if the connection ends without one. Answers the close, as RFC 6455 asks.
    public func readClose(timeout: Double = 5) throws -> (code: UInt16?, reason: String) {
        let deadline = RawWebSocket.now() + timeout
        while true {
            guard let frame = try readFrame(timeout: max(0, deadline - RawWebSocket.now())) else {
                throw Failure(description: "connection ended without a close frame")
            }
            if frame.opcode == Opcode.close {
                try? sendFrame(opcode: Opcode.close, Array(frame.payload.prefix(2)))
                return (frame.closeCode, String(decoding: frame.payload.dropFirst(2), as: UTF8.self))
            }
        }
    }

    /// What `poll(timeout:)` saw.
    public enum Polled {
        case frame(Frame)
        case end
        case nothing
    }

    /// Reads one frame if one arrives within `timeout`.
    public func poll(timeout: Double) throws -> Polled {
        do {
            guard let frame = try readFrame(timeout: timeout) else { return .end }
            return .frame(frame)
        } catch let failure as Failure where failure.description == "timeout" {
            return .nothing
        }
    }

    /// Waits for the server to end the TCP connection; returns false if it did not in time.
    /// Frames that arrive meanwhile are read and dropped (pings are not answered).
    public func waitForEOF(timeout: Double) throws -> Bool {
        let deadline = RawWebSocket.now() + timeout
        while RawWebSocket.now() < deadline {
            do {
                guard try readFrame(timeout: max(0, deadline - RawWebSocket.now())) != nil else { return true }
            } catch let failure as Failure where failure.description == "timeout" {
                return false
            }
        }
        return false
    }

    // MARK: Plumbing

    /// Writes raw bytes to the socket (anything: half frames, garbage).
    public func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer; false on EOF, throws "timeout" at the deadline.
    private func fill(deadline: Double) throws -> Bool {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let remaining = Int32(max(0, (deadline - RawWebSocket.now()) * 1000))
        let ready = Glibc.poll(&pollfd, 1, remaining)
        if ready == 0 { throw Failure(description: "timeout") }
        if ready < 0 { throw Failure(description: "poll: errno \(errno)") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n == 0 { return false }
        if n < 0 {
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv: errno \(errno)")
        }
        buffer += chunk.prefix(n)
        return true
    }

    private func readHead(deadline: Double) throws -> (Int, [String: String]) {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = firstRange(of: end) {
                let head = String(decoding: buffer[..<range], as: UTF8.self)
                buffer.removeFirst(range + end.count)
                var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
                let statusLine = lines.removeFirst().split(separator: " ")
                guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
                    throw Failure(description: "bad status line")
                }
                var headers: [String: String] = [:]
                lastFields = []
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
                    headers[name] = value
                    lastFields.append((name, value))
                }
                return (status, headers)
            }
            guard try fill(deadline: deadline) else { throw Failure(description: "EOF in response head") }
        }
    }

    private func firstRange(of pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for start in 0...(buffer.count - pattern.count) where buffer[start..<(start + pattern.count)].elementsEqual(pattern) {
            return start
        }
        return nil
    }

    /// Takes one complete (unmasked, server-sent) frame off the buffer.
    private func parseFrame() -> Frame? {
        guard buffer.count >= 2 else { return nil }
        var length = Int(buffer[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard buffer.count >= 4 else { return nil }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        } else if length == 127 {
            guard buffer.count >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(buffer[$1]) }
            offset = 10
        }
        guard buffer.count >= offset + length else { return nil }
        let frame = Frame(fin: buffer[0] & 0x80 != 0, opcode: buffer[0] & 0x0F,
                          payload: Array(buffer[offset..<(offset + length)]))
        buffer.removeFirst(offset + length)
        return frame
    }

    /// Seconds on a monotonic clock (`ContinuousClock`), from an arbitrary start: for deadlines.
    public static func now() -> Double {
        let elapsed = clockStart.duration(to: .now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    private static let clockStart = ContinuousClock.now
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
