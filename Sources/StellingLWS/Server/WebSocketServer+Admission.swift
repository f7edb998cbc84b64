import Glibc
import CWebSockets
import Logging

/// One accepted TCP connection as the connection limiter counts it, from adoption until lws
/// destroys the wsi (HTTP keep-alive and an upgrade to WebSocket keep the same wsi).
struct SocketEntry {
    /// The TCP peer's address (nil when it could not be read).
    var peer: IPAddress?
    /// The client: the peer, or behind a trusted proxy the address its latest request's
    /// `X-Forwarded-For` named (nil until that request arrived).
    var client: IPAddress?
    /// The limiter key the socket is charged to (an IPv4 address or an IPv6 /64); nil while
    /// a proxy's socket awaits its first request.
    var charged: String?
    /// The peer is a trusted proxy.
    var viaProxy: Bool
    /// What the limiter said when it was accepted; not `.admitted` means "answer and close".
    var admission: ConnectionLimiter.Admission
}

extension WebSocketServer {
    /// A TCP connection is being accepted: close it unanswered while shutting down or when it
    /// is far past a cap (answering would itself cost too much).
    func filterNetworkConnection(_ user: UnsafeMutableRawPointer?) -> Bool {
        if shuttingDown { return false }
        guard let user else { return true }
        let filter = user.assumingMemoryBound(to: lws_filter_network_conn_args.self)
        let address = ipAddress(filter.pointer(to: \.cli_addr)!)
        if dropsAtAccept(address) {
            statistics.droppedAtAccept += 1
            logger.debug("connection dropped at accept", metadata: [
                "peer.address": "\(PeerAddress.truncated(address?.description ?? "unknown"))",
            ])
            return false
        }
        return true
    }

    /// A socket the shared-port listener accepted (`reuse_port`): dropped as lws' own accept
    /// would drop it, else adopted by lws as an HTTP connection (SERVER_NEW_CLIENT_INSTANTIATED
    /// then counts it).
    func adoptShared(_ fd: Int32, into vhost: OpaquePointer) {
        let peer = peerAddress(ofSocket: fd)
        if shuttingDown || dropsAtAccept(peer) {
            statistics.droppedAtAccept += 1
            Glibc.close(fd)
            return
        }
        if lws_adopt_socket_vhost(vhost, fd) == nil {
            logger.warning("accepted connection not adopted", metadata: ["peer.address": "\(PeerAddress.truncated(peer?.description ?? "unknown"))"])
        }
    }

    /// lws adopted an accepted socket: count it. Its first request learns the outcome.
    func socketAdopted(_ wsi: OpaquePointer) -> Bool {
        if admitSocket(wsi, peer: peerAddress(ofSocket: lws_get_socket_fd(wsi))) { return true }
        statistics.droppedAtAccept += 1
        return false
    }

    /// lws destroyed a connection's wsi: it no longer counts.
    func socketDestroyed(_ wsi: OpaquePointer) {
        if let entry = sockets.removeValue(forKey: wsi) { limiter.closed(entry.charged) }
    }

    /// What the limiter said about this connection, once a request's headers arrived (behind
    /// a trusted proxy they name the client); counts and logs a refusal.
    func admission(_ wsi: OpaquePointer) -> ConnectionLimiter.Admission {
        attributeClient(wsi)
        let admission = sockets[wsi]?.admission ?? .admitted
        switch admission {
        case .overTotal:
            statistics.refusedOverTotal += 1
        case .overAddress:
            statistics.refusedOverAddress += 1
            logger.info("refused over the per-address cap", metadata: [
                "client.address": "\(PeerAddress.truncated(clientAddress(wsi)))",
            ])
        case .admitted, .drop:
            break
        }
        return admission
    }
}
