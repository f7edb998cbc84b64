import CWebSockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client address behind a trusted proxy (`trusted_proxies`, TrustedProxies).
///
/// A socket from a direct peer is charged to the peer's address when it is accepted. A socket
/// from a trusted proxy is counted in the total only, and charged to its client when a
/// request's headers arrive (HTTP request or WebSocket upgrade), since before that nobody
/// knows whom it carries; a proxy's keep-alive connection is charged again to each request's
/// client.
extension WebSocketServer {
    /// Counts an accepted socket from `peer` (nil: its address could not be read) and
    /// remembers it; false when it is to be closed unanswered.
    func admitSocket(_ wsi: OpaquePointer, peer: IPAddress?) -> Bool {
        if let peer, options.trustedProxies.trusts(peer) {
            let admission = limiter.openedUnattributed()
            if admission == .drop { return false }
            sockets[wsi] = SocketEntry(peer: peer, client: nil, charged: nil, viaProxy: true, admission: admission)
            return true
        }
        let key = peer?.limitKey ?? "unknown"
        let admission = limiter.opened(key)
        if admission == .drop { return false }
        sockets[wsi] = SocketEntry(peer: peer, client: peer, charged: key, viaProxy: false, admission: admission)
        return true
    }

    /// Whether a socket from `peer` is so far past a cap that it is closed unanswered at accept
    /// (a trusted proxy's only past the total, its client being unknown yet).
    func dropsAtAccept(_ peer: IPAddress?) -> Bool {
        if let peer, options.trustedProxies.trusts(peer) {
            return limiter.openConnections >= limiter.maxConnections + limiter.totalHeadroom
        }
        return limiter.shouldDrop(peer?.limitKey ?? "unknown")
    }

    /// A request's headers arrived on a socket from a trusted proxy: charge it to the client
    /// its `X-Forwarded-For` names (over that client's cap: `.overAddress`, answered 429).
    func attributeClient(_ wsi: OpaquePointer) {
        guard var entry = sockets[wsi], entry.viaProxy, let peer = entry.peer else { return }
        let client = options.trustedProxies.client(peer: peer, forwardedFor: header(wsi, WSI_TOKEN_X_FORWARDED_FOR))
        if entry.charged != nil, entry.client == client { return }
        if let charged = entry.charged { limiter.unattribute(charged) }
        let key = client.limitKey
        let admission = limiter.attribute(key)
        entry.client = client
        entry.charged = key
        if entry.admission != .overTotal { entry.admission = admission }
        sockets[wsi] = entry
    }

    /// The client's address for logs and per-address rules: behind a trusted proxy the one
    /// `X-Forwarded-For` names, else the peer; "unknown" when neither is known.
    func clientAddress(_ wsi: OpaquePointer) -> String {
        // An HTTP/2 stream has its own wsi; the TCP connection's is the one counted.
        let entry = sockets[wsi] ?? lws_get_network_wsi(wsi).flatMap { sockets[$0] }
        return entry?.client?.description ?? entry?.peer?.description ?? "unknown"
    }
}

/// The address in a socket address (IPv4, or IPv6 with IPv4-mapped ones as IPv4); nil for
/// other families.
func ipAddress(_ storage: UnsafePointer<sockaddr_storage>) -> IPAddress? {
    switch Int32(storage.pointee.ss_family) {
    case AF_INET:
        var address = storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        return IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
    case AF_INET6:
        var address = storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
        return IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
    default:
        return nil
    }
}

/// The peer address of a connected socket, or nil.
func peerAddress(ofSocket fd: Int32) -> IPAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    return result == 0 ? ipAddress(&storage) : nil
}
