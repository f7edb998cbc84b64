import CWebSockets
import Logging

extension WebSocketServer {
    /// The connection in a WebSocket's per-session data, from ESTABLISHED until CLOSED.
    func connection(_ user: UnsafeMutableRawPointer?) -> Connection? {
        guard let pointer = user?.load(as: UnsafeMutableRawPointer?.self) else { return nil }
        return Unmanaged<Connection>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// ESTABLISHED: a new connection, retained in the per-session data until CLOSED.
    func established(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) {
        guard let user else { return }
        // The conformance echo: the /echo path, or the "echo" subprotocol (only registered then).
        let protocolName = lws_get_protocol(wsi)?.pointee.name.map { String(cString: $0) }
        let isEcho = options.echoConformance
            && (Headers.value(wsi, WSI_TOKEN_GET_URI) == TransportOptions.echoPath || protocolName == TransportOptions.echoSubprotocol)
        let connection = Connection(id: makeConnectionID(), wsi: wsi,
                                    messageLimit: isEcho ? TransportOptions.echoMessageLimitBytes : options.messageLimitBytes,
                                    now: monotonicMilliseconds(), isEcho: isEcho)
        user.storeBytes(of: Unmanaged.passRetained(connection).toOpaque(), as: UnsafeMutableRawPointer?.self)
        connections[connection.id] = connection
        statistics.openConnections += 1
        if isEcho {
            logger.debug("echo connection opened", metadata: ["connection.id": "\(connection.id)"])
        } else {
            // The handler logs the opening, with what it knows of the peer.
            // The client: the peer, or behind a trusted proxy the address X-Forwarded-For names.
            handler.connectionOpened(connection.id, peer: clientAddress(wsi), origin: Headers.value(wsi, WSI_TOKEN_ORIGIN))
        }
        if shuttingDown && connection.state.acceptsEvents {
            requestClose(connection, code: .goingAway, reason: "server shutting down", timeoutSeconds: nil)
        }
    }

    /// RECEIVE: one piece of a message; whole messages go to the handler (or back, on the echo).
    func receive(_ connection: Connection, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        connection.state.received(at: monotonicMilliseconds())
        // A connection on its way out takes no more requests.
        guard connection.state.acceptsEvents else { return 0 }
        let wsi = connection.wsi
        let outcome = connection.assembler.receive(
            UnsafeRawBufferPointer(start: input, count: length),
            first: lws_is_first_fragment(wsi) != 0,
            final: lws_is_final_fragment(wsi) != 0,
            binary: lws_frame_is_binary(wsi) != 0)
        switch outcome {
        case .incomplete:
            return 0
        case .message(let bytes, let binary):
            statistics.messagesIn += 1
            if connection.isEcho {
                queueEcho(connection, binary: binary, bytes)
            } else {
                handler.messageReceived(connection.id, text: bytes)
            }
            return 0
        case .close(let code, let reason):
            logger.debug("closing connection on a bad message", metadata: [
                "connection.id": "\(connection.id)", "close.code": "\(code)",
            ])
            connection.state.dropQueues()
            connection.state.requestClose(code, reason: reason)
            Headers.setCloseReason(wsi, code: code, reason: reason)
            return -1
        }
    }

    /// Queues a received message to go back unchanged (the conformance echo).
    private func queueEcho(_ connection: Connection, binary: Bool, _ bytes: [UInt8]) {
        connection.state.queueEcho(bytes, binary: binary)
        if connection.state.queuedBytes > max(options.outboundQueueLimitBytes, 4 * TransportOptions.echoMessageLimitBytes) {
            dropTooSlow(connection)
            return
        }
        requestWritable(connection)
    }

    /// SERVER_WRITEABLE: one lws_write of what `ConnectionState.nextWrite` says; asks again
    /// while something is left.
    func writeable(_ connection: Connection) -> Int32 {
        connection.writableRequested = false
        let wsi = connection.wsi
        switch connection.state.nextWrite() {
        case .nothing:
            return 0
        case .ping:
            // The ping carries a payload: lws 4.1.6 drops an empty pong before
            // LWS_CALLBACK_RECEIVE_PONG, so an empty ping's answer would go unseen. The payload
            // is ASCII digits: with UTF-8 validation on, lws 4.1.6 also validates the pong's
            // payload and closes with 1007 "bad utf8" when the echoed bytes are not UTF-8.
            writeBuffer.copy(Self.pingPayload(monotonicMilliseconds()), at: 0)
            if !writeBuffer.write(wsi, length: 8, LWS_WRITE_PING) { return -1 }
        case .echo(let bytes, let binary):
            writeBuffer.copy(bytes, at: 0)
            if !writeBuffer.write(wsi, length: bytes.count, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) { return -1 }
            statistics.messagesOut += 1
            statistics.bytesOut += UInt64(bytes.count)
        case .batch:
            var length = 0
            var events: UInt64 = 0
            connection.state.outbound.takeBatch(maxBytes: options.batchLimitBytes) { bytes in
                if events > 0 {
                    writeBuffer.copy(CollectionOfOne(UInt8(ascii: "\n")), at: length)
                    length += 1
                }
                writeBuffer.copy(bytes, at: length)
                length += bytes.count
                events += 1
            }
            if !writeBuffer.write(wsi, length: length, LWS_WRITE_TEXT) { return -1 }
            statistics.messagesOut += 1
            statistics.eventsOut += events
            statistics.bytesOut += UInt64(length)
        case .close(let code, let reason):
            Headers.setCloseReason(wsi, code: code, reason: reason)
            return -1
        }
        if connection.state.hasMoreToWrite { requestWritable(connection) }
        return 0
    }

    /// A keep-alive ping's 8-byte payload: the time's last digits, as ASCII.
    static func pingPayload(_ milliseconds: Int64) -> [UInt8] {
        var stamp = UInt64(truncatingIfNeeded: milliseconds)
        var digits = [UInt8](repeating: 0, count: 8)
        for index in (0..<8).reversed() {
            digits[index] = UInt8(ascii: "0") + UInt8(stamp % 10)
            stamp /= 10
        }
        return digits
    }

    /// CLOSED: the connection is gone; its retained reference is released.
    func closed(_ user: UnsafeMutableRawPointer?) {
        guard let user, let pointer = user.load(as: UnsafeMutableRawPointer?.self) else { return }
        user.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        let connection = Unmanaged<Connection>.fromOpaque(pointer).takeRetainedValue()
        connections[connection.id] = nil
        statistics.openConnections -= 1
        logger.debug("connection closed", metadata: ["connection.id": "\(connection.id)"])
        if !connection.isEcho { handler.connectionClosed(connection.id) }
    }

    /// Asks lws for a WRITEABLE callback, once per pending request (the call is a flag).
    func requestWritable(_ connection: Connection) {
        guard !connection.writableRequested else { return }
        connection.writableRequested = true
        lws_callback_on_writable(connection.wsi)
    }
}
