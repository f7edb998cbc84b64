import CWebSockets

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

    /// Handles one lws callback on the service thread: this file only routes; admission,
    /// upgrade, WebSocket and HTTP each have their own file. Whatever is not handled here falls
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
            socketDestroyed(wsi)
            return lws_callback_http_dummy(wsi, reason, user, input, length)

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            // `input` is the Upgrade header's value. 0 lets lws go on to the upgrade; our own
            // answer is written here, and -1 then closes the connection.
            let upgrade = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
            return confirmUpgrade(wsi, upgrade: upgrade) ? 0 : -1

        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            return acceptsUpgrade(wsi, webSocketProtocol: webSocketProtocol) ? 0 : 1

        case LWS_CALLBACK_ESTABLISHED where webSocketProtocol:
            established(wsi, user)
            return 0

        case LWS_CALLBACK_RECEIVE where webSocketProtocol:
            guard let connection = connection(user) else { return -1 }
            return receive(connection, input, length)

        case LWS_CALLBACK_RECEIVE_PONG where webSocketProtocol:
            connection(user)?.state.received(at: monotonicMilliseconds())
            return 0

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE where webSocketProtocol:
            // lws answers the close frame itself; the handler only learns the code.
            if let connection = connection(user), !connection.isEcho,
               let close = Headers.closePayload(input, length) {
                handler.peerClosed(connection.id, code: close.code)
            }
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
            httpEnded(wsi)
            return lws_callback_http_dummy(wsi, reason, user, input, length)

        default:
            return lws_callback_http_dummy(wsi, reason, user, input, length)
        }
    }
}
