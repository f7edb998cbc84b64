import CWebSockets
import Logging
import StellingCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The "http" protocol's callback (protocols[0]): every HTTP request, via the "/" mount.
func stellingHTTPCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons,
                          _ user: UnsafeMutableRawPointer?, _ input: UnsafeMutableRawPointer?,
                          _ length: Int) -> Int32 {
    guard let wsi, let server = WebSocketServer.owner(of: wsi) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    return server.callback(wsi, reason, user, input, length, webSocketProtocol: false)
}

/// The "stelling.v1" protocol's callback: WebSocket connections (and, because it is the
/// vhost's default protocol, HTTP connections before their request binds them to "http").
func stellingWebSocketCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons,
                               _ user: UnsafeMutableRawPointer?, _ input: UnsafeMutableRawPointer?,
                               _ length: Int) -> Int32 {
    guard let wsi, let server = WebSocketServer.owner(of: wsi) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    return server.callback(wsi, reason, user, input, length, webSocketProtocol: true)
}

extension WebSocketServer {
    /// The server whose context `wsi` belongs to (the context's user pointer, unretained).
    static func owner(of wsi: OpaquePointer) -> WebSocketServer? {
        guard let context = lws_get_context(wsi), let user = lws_context_user(context) else { return nil }
        return Unmanaged<WebSocketServer>.fromOpaque(user).takeUnretainedValue()
    }

    /// Handles one lws callback on the service thread. Whatever is not handled here falls
    /// through to `lws_callback_http_dummy`, which lws needs for its own HTTP machinery.
    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ length: Int, webSocketProtocol: Bool) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            // lws_cancel_service() woke the loop: run the executor's jobs now.
            loop.runPending()
            return 0

        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            // `user` is the accepted socket's lws_filter_network_conn_args.
            return filterNetworkConnection(user) ? 0 : 1

        case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
            if !socketAdopted(wsi) { return -1 }
            return lws_callback_http_dummy(wsi, reason, user, input, length)

        case LWS_CALLBACK_WSI_DESTROY:
            if let entry = sockets.removeValue(forKey: wsi) { limiter.closed(entry.charged) }
            return lws_callback_http_dummy(wsi, reason, user, input, length)

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            // `input` is the Upgrade header's value. 0 lets lws go on to the upgrade; our own
            // answer is written here, and -1 then closes the connection.
            let upgrade = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
            return confirmUpgrade(wsi, upgrade: upgrade)

        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            return acceptsUpgrade(wsi, webSocketProtocol: webSocketProtocol) ? 0 : 1

        case LWS_CALLBACK_ESTABLISHED where webSocketProtocol:
            established(wsi, user)
            return 0

        case LWS_CALLBACK_RECEIVE where webSocketProtocol:
            guard let connection = connection(user) else { return -1 }
            return receive(connection, input, length)

        case LWS_CALLBACK_RECEIVE_PONG where webSocketProtocol:
            connection(user)?.received(at: monotonicMilliseconds())
            return 0

        case LWS_CALLBACK_SERVER_WRITEABLE where webSocketProtocol:
            guard let connection = connection(user) else { return 0 }
            return writeable(connection)

        case LWS_CALLBACK_CLOSED where webSocketProtocol:
            closed(user)
            return 0

        case LWS_CALLBACK_HTTP:
            return httpRequest(wsi)

        case LWS_CALLBACK_HTTP_WRITEABLE where deferred[wsi]?.response != nil:
            return deferredWriteable(wsi)

        case LWS_CALLBACK_HTTP_WRITEABLE where transfers[wsi] != nil:
            return httpWriteable(wsi)

        case LWS_CALLBACK_CLOSED_HTTP, LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            transfers[wsi] = nil
            deferred[wsi] = nil
            return lws_callback_http_dummy(wsi, reason, user, input, length)

        default:
            return lws_callback_http_dummy(wsi, reason, user, input, length)
        }
    }

    // MARK: WebSocket

    /// Only `GET /ws` upgrades to our subprotocol (and `/echo` with `echoConformance`), and
    /// none while shutting down. `confirmUpgrade` has answered the usual refusals already;
    /// this is lws's last word after it chose the subprotocol.
    private func acceptsUpgrade(_ wsi: OpaquePointer, webSocketProtocol: Bool) -> Bool {
        guard webSocketProtocol, !shuttingDown else { return false }
        return isWebSocketPath(header(wsi, WSI_TOKEN_GET_URI))
    }

    private func isWebSocketPath(_ path: String?) -> Bool {
        path == "/ws" || (options.echoConformance && path == TransportOptions.echoPath)
    }

    // MARK: Admission

    /// A TCP connection is being accepted: close it unanswered while shutting down or when it
    /// is far past a cap (answering would itself cost too much).
    private func filterNetworkConnection(_ user: UnsafeMutableRawPointer?) -> Bool {
        if shuttingDown { return false }
        guard let user else { return true }
        let filter = user.assumingMemoryBound(to: lws_filter_network_conn_args.self)
        let address = ipAddress(filter.pointer(to: \.cli_addr)!)
        if dropsAtAccept(address) {
            statistics.droppedAtAccept += 1
            logger.debug("connection dropped at accept", metadata: ["peer": "\(PeerAddress.truncated(address?.description ?? "unknown"))"])
            return false
        }
        return true
    }

    /// lws adopted an accepted socket: count it. Its first request learns the outcome.
    private func socketAdopted(_ wsi: OpaquePointer) -> Bool {
        if admitSocket(wsi, peer: peerAddress(ofSocket: lws_get_socket_fd(wsi))) { return true }
        statistics.droppedAtAccept += 1
        return false
    }

    /// The refusal for a connection over a cap, or nil when it is admitted.
    private func capRefusal(_ wsi: OpaquePointer) -> HTTPResponse? {
        attributeClient(wsi)
        switch sockets[wsi]?.admission {
        case .overTotal?:
            statistics.refusedOverTotal += 1
            return HTTPResponse(status: 503, contentType: "text/plain; charset=utf-8",
                                headers: [HTTPHeader("Retry-After", "30")],
                                body: Array("The server is full. Please try again in a minute.\n".utf8))
        case .overAddress?:
            statistics.refusedOverAddress += 1
            logger.info("refused over the per-address cap", metadata: ["client": "\(PeerAddress.truncated(clientAddress(wsi)))"])
            return HTTPResponse(status: 429, contentType: "text/plain; charset=utf-8",
                                headers: [HTTPHeader("Retry-After", "30")],
                                body: Array("Too many connections from your address. Please try again in a minute.\n".utf8))
        default:
            return nil
        }
    }

    /// Checks an upgrade before lws accepts it, answering a refusal with a real HTTP status:
    /// caps (503/429), path (404), Origin (403), subprotocol (400).
    private func confirmUpgrade(_ wsi: OpaquePointer, upgrade: String) -> Int32 {
        func refuse(_ response: HTTPResponse) -> Int32 {
            _ = respondAndClose(wsi, response)
            return -1
        }
        guard upgrade.lowercased() == "websocket" else {
            // Notably h2c: HTTP/2 would bypass these checks. lws itself refuses other names.
            return refuse(.text("only WebSocket upgrades are served\n", status: 403))
        }
        if shuttingDown { return refuse(.text("shutting down\n", status: 503)) }
        if let refusal = capRefusal(wsi) { return refuse(refusal) }
        let path = header(wsi, WSI_TOKEN_GET_URI)
        guard isWebSocketPath(path) else { return refuse(.text("not found\n", status: 404)) }
        let origin = header(wsi, WSI_TOKEN_ORIGIN)
        guard originPolicy.allows(origin: origin, host: header(wsi, WSI_TOKEN_HOST)) else {
            statistics.refusedOrigin += 1
            logger.info("upgrade refused for its origin", metadata: ["origin": "\(origin ?? "")", "client": "\(PeerAddress.truncated(clientAddress(wsi)))"])
            return refuse(.text("this origin may not connect\n", status: 403))
        }
        if let offered = header(wsi, WSI_TOKEN_PROTOCOL) {
            var acceptable = [options.subprotocol]
            if options.echoConformance { acceptable.append(TransportOptions.echoSubprotocol) }
            let names = offered.split(separator: ",").map { String($0).trimmingBlanks() }
            guard names.contains(where: acceptable.contains) else {
                return refuse(.text("unsupported subprotocol; offer \(options.subprotocol)\n", status: 400))
            }
        }
        return 0
    }

    private func connection(_ user: UnsafeMutableRawPointer?) -> Connection? {
        guard let pointer = user?.load(as: UnsafeMutableRawPointer?.self) else { return nil }
        return Unmanaged<Connection>.fromOpaque(pointer).takeUnretainedValue()
    }

    private func established(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) {
        guard let user else { return }
        // The conformance echo: the /echo path, or the "echo" subprotocol (only registered then).
        let protocolName = lws_get_protocol(wsi)?.pointee.name.map { String(cString: $0) }
        let isEcho = options.echoConformance
            && (header(wsi, WSI_TOKEN_GET_URI) == TransportOptions.echoPath || protocolName == TransportOptions.echoSubprotocol)
        let connection = Connection(id: makeConnectionID(), wsi: wsi,
                                    messageLimit: isEcho ? TransportOptions.echoMessageLimitBytes : options.messageLimitBytes,
                                    now: monotonicMilliseconds(), isEcho: isEcho)
        user.storeBytes(of: Unmanaged.passRetained(connection).toOpaque(), as: UnsafeMutableRawPointer?.self)
        connections[connection.id] = connection
        statistics.openConnections += 1
        let peer = clientAddress(wsi)
        let origin = header(wsi, WSI_TOKEN_ORIGIN)
        logger.debug("connection opened", metadata: [
            "connection.id": "\(connection.id)", "client": "\(PeerAddress.truncated(peer))", "echo": "\(isEcho)",
        ])
        if !isEcho { handler.connectionOpened(connection.id, peer: peer, origin: origin) }
        if shuttingDown && connection.acceptsEvents {
            requestClose(connection, code: CloseCodes.goingAway, reason: "server shutting down", timeoutSeconds: nil)
        }
    }

    private func receive(_ connection: Connection, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        connection.received(at: monotonicMilliseconds())
        // A connection on its way out takes no more requests.
        guard connection.acceptsEvents else { return 0 }
        let wsi = connection.wsi
        let outcome = connection.assembler.receive(
            UnsafeRawBufferPointer(start: input, count: length),
            first: lws_is_first_fragment(wsi) != 0,
            final: lws_is_final_fragment(wsi) != 0,
            binary: lws_frame_is_binary(wsi) != 0)
        switch outcome {
        case .incomplete:
            return 0
        case .message(let text):
            statistics.messagesIn += 1
            if connection.isEcho {
                queueEcho(connection, binary: false, text)
            } else {
                handler.messageReceived(connection.id, text: text)
            }
            return 0
        case .binaryMessage(let bytes):  // only echo connections accept binary
            statistics.messagesIn += 1
            queueEcho(connection, binary: true, bytes)
            return 0
        case .close(let code, let reason):
            logger.debug("closing connection on a bad message", metadata: [
                "connection.id": "\(connection.id)", "close.code": "\(code)",
            ])
            connection.outbound.removeAll()
            connection.closeRequest = (code, reason)
            setCloseReason(wsi, code: code, reason: reason)
            return -1
        }
    }

    /// Queues a received message to go back unchanged (the conformance echo).
    private func queueEcho(_ connection: Connection, binary: Bool, _ bytes: [UInt8]) {
        connection.echoes.append((binary, bytes))
        connection.echoBytes += bytes.count
        if connection.echoBytes > max(options.outboundQueueLimitBytes, 4 * TransportOptions.echoMessageLimitBytes) {
            dropTooSlow(connection)
            return
        }
        connection.requestWritable()
    }

    /// One WRITEABLE, one lws_write: a due ping first, else everything queued as one
    /// message (an echo connection: the next echo), else the requested close. Asks again
    /// while something is left.
    private func writeable(_ connection: Connection) -> Int32 {
        connection.writableRequested = false
        if connection.dropped { return 0 }  // lws is killing it already
        let wsi = connection.wsi
        if connection.pingDue {
            connection.pingDue = false
            // The ping carries a payload: lws 4.1.6 drops an empty pong before
            // LWS_CALLBACK_RECEIVE_PONG, so an empty ping's answer would go unseen. The payload
            // is ASCII digits: with UTF-8 validation on, lws 4.1.6 also validates the pong's
            // payload and closes with 1007 "bad utf8" when the echoed bytes are not UTF-8.
            let payload = (scratch + pre).assumingMemoryBound(to: UInt8.self)
            var stamp = UInt64(truncatingIfNeeded: monotonicMilliseconds())
            for index in (0..<8).reversed() {
                payload[index] = UInt8(ascii: "0") + UInt8(stamp % 10)
                stamp /= 10
            }
            if lws_write(wsi, payload, 8, LWS_WRITE_PING) < 0 { return -1 }
            if connection.queuedBytes > 0 || !connection.echoes.isEmpty || connection.closeRequest != nil {
                connection.requestWritable()
            }
            return 0
        }
        if !connection.echoes.isEmpty {
            let echo = connection.echoes.removeFirst()
            connection.echoBytes -= echo.bytes.count
            reserveScratch(echo.bytes.count)
            let base = scratch + pre
            echo.bytes.withUnsafeBytes { source in
                if let address = source.baseAddress { base.copyMemory(from: address, byteCount: source.count) }
            }
            let payload = scratch.assumingMemoryBound(to: UInt8.self) + pre
            if lws_write(wsi, payload, echo.bytes.count, echo.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0 { return -1 }
            statistics.messagesOut += 1
            statistics.bytesOut += UInt64(echo.bytes.count)
            if !connection.echoes.isEmpty || connection.closeRequest != nil { connection.requestWritable() }
            return 0
        }
        if !connection.outbound.isEmpty {
            var length = 0
            var events: UInt64 = 0
            connection.outbound.takeBatch(maxBytes: options.batchLimitBytes) { bytes in
                let separator = length == 0 && events == 0 ? 0 : 1
                reserveScratch(length + separator + bytes.count)
                let base = scratch + pre
                if separator == 1 {
                    base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: length, as: UInt8.self)
                    length += 1
                }
                bytes.withUnsafeBytes { source in
                    if let address = source.baseAddress { (base + length).copyMemory(from: address, byteCount: source.count) }
                }
                length += bytes.count
                events += 1
            }
            let payload = scratch.assumingMemoryBound(to: UInt8.self) + pre
            if lws_write(wsi, payload, length, LWS_WRITE_TEXT) < 0 { return -1 }
            statistics.messagesOut += 1
            statistics.eventsOut += events
            statistics.bytesOut += UInt64(length)
            if !connection.outbound.isEmpty || connection.closeRequest != nil { connection.requestWritable() }
            return 0
        }
        if let close = connection.closeRequest {
            setCloseReason(wsi, code: close.code, reason: close.reason)
            return -1
        }
        return 0
    }

    private func setCloseReason(_ wsi: OpaquePointer, code: UInt16, reason: String) {
        // A close frame's payload is at most 125 bytes: 2 for the code, the rest the reason.
        var bytes = Array(reason.utf8.prefix(123))
        lws_close_reason(wsi, lws_close_status(rawValue: UInt32(code)), &bytes, bytes.count)
    }

    private func closed(_ user: UnsafeMutableRawPointer?) {
        guard let user, let pointer = user.load(as: UnsafeMutableRawPointer?.self) else { return }
        user.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        let connection = Unmanaged<Connection>.fromOpaque(pointer).takeRetainedValue()
        connections[connection.id] = nil
        statistics.openConnections -= 1
        logger.debug("connection closed", metadata: ["connection.id": "\(connection.id)"])
        if !connection.isEcho { handler.connectionClosed(connection.id) }
    }

    // MARK: HTTP

    private func httpRequest(_ wsi: OpaquePointer) -> Int32 {
        var uri: UnsafeMutablePointer<CChar>?
        var uriLength: Int32 = 0
        let method = lws_http_get_uri_and_method(wsi, &uri, &uriLength)
        let path = uri.map {
            String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(uriLength)), as: UTF8.self)
        } ?? "/"
        let isGet = method == Int32(LWSHUMETH_GET)
        let isHead = method == Int32(LWSHUMETH_HEAD)
        if let refusal = capRefusal(wsi) {
            return respond(wsi, refusal, head: isHead, closeAfter: true)
        }
        guard isGet || isHead else {
            // A body may follow: answer and close rather than parse it as the next request.
            let response = HTTPResponse(status: 405, contentType: "text/plain; charset=utf-8",
                                        headers: [HTTPHeader("Allow", "GET, HEAD")],
                                        body: Array("method not allowed\n".utf8))
            return respond(wsi, response, head: false, closeAfter: true)
        }
        if shuttingDown {
            return respond(wsi, .text("shutting down\n", status: 503), head: isHead, closeAfter: true)
        }
        let request = HTTPRequest(method: isGet ? "GET" : "HEAD", path: path, query: query(wsi),
                                  authorization: header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION),
                                  host: header(wsi, WSI_TOKEN_HOST), secure: options.tls != nil,
                                  clientAddress: clientAddress(wsi))
        if let response = handler.httpRequest(request) {
            return respond(wsi, response, head: isHead, closeAfter: false)
        }
        if takeLater(wsi, request, head: isHead) { return 0 }
        return respond(wsi, staticFile(path), head: isHead, closeAfter: false)
    }

    /// Offers the request to `httpRequestLater`; the reply comes back through the loop and
    /// is written from HTTP_WRITEABLE (headers may only be written inside a callback).
    private func takeLater(_ wsi: OpaquePointer, _ request: HTTPRequest, head: Bool) -> Bool {
        nextDeferredNumber += 1
        let number = nextDeferredNumber
        let loop = self.loop
        let taken = handler.httpRequestLater(request) { [weak self] response in
            guard let server = self else { return }
            loop.execute { server.deferredReplied(number, response) }
        }
        guard taken else { return false }
        deferred[wsi] = DeferredHTTP(number: number, head: head)
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 120)
        return true
    }

    /// A deferred reply arrived: keep it for the connection's next HTTP_WRITEABLE.
    private func deferredReplied(_ number: UInt64, _ response: HTTPResponse) {
        guard let (wsi, _) = deferred.first(where: { $0.value.number == number }) else { return }
        deferred[wsi]?.response = response
        lws_callback_on_writable(wsi)
    }

    private func deferredWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard let waiting = deferred.removeValue(forKey: wsi), let response = waiting.response else { return 0 }
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0)
        return respond(wsi, response, head: waiting.head, closeAfter: false)
    }

    private func staticFile(_ path: String) -> HTTPResponse {
        guard let relative = StaticFiles.relativePath(for: path),
              let body = StaticFiles.file(root: options.webRoot, relativePath: relative) else {
            return .text("not found\n", status: 404)
        }
        return HTTPResponse(status: 200, contentType: StaticFiles.contentType(for: relative), body: body)
    }

    /// The headers a response carries beyond status, Content-Type and Content-Length, and
    /// beyond those lws adds to every response (`fixedHeaders`): Cache-Control unless the
    /// response has one, the default CSP unless it has its own, and "Connection: close".
    private func extraHeaders(_ response: HTTPResponse, closeAfter: Bool) -> [HTTPHeader] {
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

    /// Adds status, Content-Type, Content-Length (also telling lws the body's length when
    /// `tracked`) and the extra headers at `cursor`; false when they do not fit.
    private func addHeaders(_ wsi: OpaquePointer, _ response: HTTPResponse, _ extra: [HTTPHeader],
                            tracked: Bool, _ cursor: inout UnsafeMutablePointer<UInt8>?,
                            _ end: UnsafeMutablePointer<UInt8>) -> Bool {
        if tracked {
            if lws_add_http_common_headers(wsi, UInt32(response.status), response.contentType,
                                           lws_filepos_t(response.body.count), &cursor, end) != 0 { return false }
        } else {
            if lws_add_http_header_status(wsi, UInt32(response.status), &cursor, end) != 0 { return false }
            let type = Array(response.contentType.utf8)
            if lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, type, Int32(type.count), &cursor, end) != 0 {
                return false
            }
            let length = Array(String(response.body.count).utf8)
            if lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, length, Int32(length.count), &cursor, end) != 0 {
                return false
            }
        }
        for field in extra {
            let name = Array((field.name.lowercased() + ":").utf8) + [0]
            let value = Array(field.value.utf8)
            if lws_add_http_header_by_name(wsi, name, value, Int32(value.count), &cursor, end) != 0 { return false }
        }
        return true
    }

    private func headerSpace(_ response: HTTPResponse, _ extra: [HTTPHeader]) -> Int {
        let fixed = fixedHeaders.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 8 }
        return extra.reduce(768 + fixed + response.contentType.utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count + 8 }
    }

    /// Writes a short response, head and body in one lws_write, for answering in a state
    /// where no HTTP_WRITEABLE will follow (an upgrade refused in HTTP_CONFIRM_UPGRADE, as
    /// lws_return_http_status does). The caller closes the connection by returning -1.
    private func respondAndClose(_ wsi: OpaquePointer, _ response: HTTPResponse) -> Bool {
        let extra = extraHeaders(response, closeAfter: true)
        let space = headerSpace(response, extra)
        reserveScratch(space + response.body.count)
        let start = scratch.assumingMemoryBound(to: UInt8.self) + pre
        let end = start + space
        var cursor: UnsafeMutablePointer<UInt8>? = start
        guard addHeaders(wsi, response, extra, tracked: false, &cursor, end),
              lws_finalize_http_header(wsi, &cursor, end) == 0, var cursor else { return false }
        response.body.withUnsafeBytes { body in
            if let address = body.baseAddress { UnsafeMutableRawPointer(cursor).copyMemory(from: address, byteCount: body.count) }
        }
        cursor += response.body.count
        let length = cursor - start
        return lws_write(wsi, start, length, LWS_WRITE_HTTP) == length
    }

    /// Writes the status and headers now and queues the body for HTTP_WRITEABLE.
    private func respond(_ wsi: OpaquePointer, _ response: HTTPResponse, head: Bool, closeAfter: Bool) -> Int32 {
        let extra = extraHeaders(response, closeAfter: closeAfter)
        let headerBytes = headerSpace(response, extra)
        reserveScratch(headerBytes)
        let start = scratch.assumingMemoryBound(to: UInt8.self) + pre
        let end = start + headerBytes
        var cursor: UnsafeMutablePointer<UInt8>? = start
        guard addHeaders(wsi, response, extra, tracked: true, &cursor, end) else { return -1 }
        if lws_finalize_write_http_header(wsi, start, &cursor, end) != 0 { return -1 }
        if head || response.body.isEmpty {
            if closeAfter { return -1 }
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        }
        transfers[wsi] = HTTPTransfer(body: response.body, closeAfter: closeAfter)
        lws_callback_on_writable(wsi)
        return 0
    }

    /// Sends the next ~16 KB of the body; the last piece with LWS_WRITE_HTTP_FINAL.
    private func httpWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard var transfer = transfers[wsi] else { return 0 }
        let chunk = min(16 << 10, transfer.body.count - transfer.offset)
        let final = transfer.offset + chunk == transfer.body.count
        reserveScratch(chunk)
        let payload = scratch.assumingMemoryBound(to: UInt8.self) + pre
        transfer.body.withUnsafeBytes { source in
            UnsafeMutableRawPointer(payload).copyMemory(from: source.baseAddress! + transfer.offset, byteCount: chunk)
        }
        if lws_write(wsi, payload, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0 {
            transfers[wsi] = nil
            return -1
        }
        transfer.offset += chunk
        if final {
            transfers[wsi] = nil
            if transfer.closeAfter { return -1 }
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        }
        transfers[wsi] = transfer
        lws_callback_on_writable(wsi)
        return 0
    }

    /// A request header's value (fragments joined by ","), or nil when absent.
    func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: length * 2 + 2)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) >= 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The query's decoded name=value pairs joined by "&" (lws keeps each as a fragment).
    private func query(_ wsi: OpaquePointer) -> String {
        var parts: [String] = []
        var index: Int32 = 0
        while true {
            let length = Int(lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, index))
            guard length > 0 else { break }
            var buffer = [CChar](repeating: 0, count: length + 1)
            guard lws_hdr_copy_fragment(wsi, &buffer, Int32(buffer.count), WSI_TOKEN_HTTP_URI_ARGS, index) >= 0 else { break }
            parts.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            index += 1
        }
        return parts.joined(separator: "&")
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingBlanks() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
