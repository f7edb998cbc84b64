import CWebSockets
import Logging
import StellingCore

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
            return shuttingDown ? 1 : 0

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

    /// Only `GET /ws` upgrades to our subprotocol, and none while shutting down.
    private func acceptsUpgrade(_ wsi: OpaquePointer, webSocketProtocol: Bool) -> Bool {
        guard webSocketProtocol, !shuttingDown else { return false }
        return header(wsi, WSI_TOKEN_GET_URI) == "/ws"
    }

    private func connection(_ user: UnsafeMutableRawPointer?) -> Connection? {
        guard let pointer = user?.load(as: UnsafeMutableRawPointer?.self) else { return nil }
        return Unmanaged<Connection>.fromOpaque(pointer).takeUnretainedValue()
    }

    private func established(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) {
        guard let user else { return }
        let connection = Connection(id: makeConnectionID(), wsi: wsi, messageLimit: options.messageLimitBytes,
                                    now: monotonicMilliseconds())
        user.storeBytes(of: Unmanaged.passRetained(connection).toOpaque(), as: UnsafeMutableRawPointer?.self)
        connections[connection.id] = connection
        statistics.openConnections += 1
        var peerBuffer = [CChar](repeating: 0, count: 64)
        let peer = peerBuffer.withUnsafeMutableBufferPointer { buffer in
            lws_get_peer_simple(wsi, buffer.baseAddress, buffer.count).map { String(cString: $0) } ?? ""
        }
        let origin = header(wsi, WSI_TOKEN_ORIGIN)
        logger.debug("connection opened", metadata: ["connection.id": "\(connection.id)", "peer": "\(peer)"])
        handler.connectionOpened(connection.id, peer: peer, origin: origin)
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
            handler.messageReceived(connection.id, text: text)
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

    /// One WRITEABLE, one lws_write: a due ping first, else everything queued as one
    /// message, else the requested close. Asks again while something is left.
    private func writeable(_ connection: Connection) -> Int32 {
        connection.writableRequested = false
        if connection.dropped { return 0 }  // lws is killing it already
        let wsi = connection.wsi
        if connection.pingDue {
            connection.pingDue = false
            // The ping carries a payload: lws 4.1.6 drops an empty pong before
            // LWS_CALLBACK_RECEIVE_PONG, so an empty ping's answer would go unseen.
            let payload = scratch + pre
            payload.storeBytes(of: UInt64(truncatingIfNeeded: monotonicMilliseconds()).bigEndian, as: UInt64.self)
            if lws_write(wsi, payload.assumingMemoryBound(to: UInt8.self), 8, LWS_WRITE_PING) < 0 { return -1 }
            if !connection.outbound.isEmpty || connection.closeRequest != nil { connection.requestWritable() }
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
        handler.connectionClosed(connection.id)
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
                                  authorization: header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION))
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
              let body = StaticFiles.read(root: options.webRoot, relativePath: relative) else {
            return .text("not found\n", status: 404)
        }
        return HTTPResponse(status: 200, contentType: StaticFiles.contentType(for: relative), body: body)
    }

    /// Writes the status and headers now and queues the body for HTTP_WRITEABLE.
    private func respond(_ wsi: OpaquePointer, _ response: HTTPResponse, head: Bool, closeAfter: Bool) -> Int32 {
        var extra = response.headers
        if !extra.contains(where: { $0.name.lowercased() == "cache-control" }) {
            extra.append(HTTPHeader("Cache-Control", "no-cache"))
        }
        extra.append(HTTPHeader("X-Content-Type-Options", "nosniff"))
        let headerBytes = extra.reduce(512 + response.contentType.utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count + 8 }
        reserveScratch(headerBytes)
        let start = scratch.assumingMemoryBound(to: UInt8.self) + pre
        let end = start + headerBytes
        var cursor: UnsafeMutablePointer<UInt8>? = start
        if lws_add_http_common_headers(wsi, UInt32(response.status), response.contentType,
                                       lws_filepos_t(response.body.count), &cursor, end) != 0 {
            return -1
        }
        for field in extra {
            let name = Array((field.name.lowercased() + ":").utf8) + [0]
            let value = Array(field.value.utf8)
            if lws_add_http_header_by_name(wsi, name, value, Int32(value.count), &cursor, end) != 0 { return -1 }
        }
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
