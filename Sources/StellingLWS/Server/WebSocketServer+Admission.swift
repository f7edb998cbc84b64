import CWebSockets
import Logging

/// One accepted TCP connection as the connection limiter counts it, from adoption until lws
/// destroys the wsi (HTTP keep-alive and an upgrade to WebSocket keep the same wsi).
struct SocketEntry {
    /// The limiter's key: an IPv4 address, or an IPv6 /64.
    var address: String
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
        let address = SocketAddress.limiterKey(filter.pointer(to: \.cli_addr)!)
        if limiter.shouldDrop(address) {
            statistics.droppedAtAccept += 1
            logger.debug("connection dropped at accept", metadata: ["peer.address": "\(PeerAddress.truncated(address))"])
            return false
        }
        return true
    }

    /// lws adopted an accepted socket: count it. Its first request learns the outcome.
    func socketAdopted(_ wsi: OpaquePointer) -> Bool {
        let address = SocketAddress.peerKey(fd: lws_get_socket_fd(wsi))
        let admission = limiter.opened(address)
        if admission == .drop {
            statistics.droppedAtAccept += 1
            return false
        }
        sockets[wsi] = SocketEntry(address: address, admission: admission)
        return true
    }

    /// lws destroyed a connection's wsi: it no longer counts.
    func socketDestroyed(_ wsi: OpaquePointer) {
        if let entry = sockets.removeValue(forKey: wsi) { limiter.closed(entry.address) }
    }

    /// What the limiter said about this connection; counts a refusal.
    func admission(_ wsi: OpaquePointer) -> ConnectionLimiter.Admission {
        let admission = sockets[wsi]?.admission ?? .admitted
        switch admission {
        case .overTotal: statistics.refusedOverTotal += 1
        case .overAddress: statistics.refusedOverAddress += 1
        case .admitted, .drop: break
        }
        return admission
    }
}
