#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Peer addresses as the connection limiter keys them.
enum SocketAddress {
    /// The key of the peer of socket `fd`, or "unknown".
    static func peerKey(fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        return result == 0 ? limiterKey(&storage) : "unknown"
    }

    /// The connection limiter's key for a peer: the IPv4 address ("192.0.2.7"; IPv4-mapped
    /// IPv6 too), or an IPv6 address's /64 ("2001:db8:1:2::/64"), since one subscriber usually
    /// holds a whole /64.
    static func limiterKey(_ storage: UnsafePointer<sockaddr_storage>) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 8)
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            var address = storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return "unknown" }
            return String(cString: text)
        case AF_INET6:
            var address = storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            var bytes = withUnsafeBytes(of: &address) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                var v4 = in_addr()
                withUnsafeMutableBytes(of: &v4) { $0.copyBytes(from: bytes[12..<16]) }
                guard inet_ntop(AF_INET, &v4, &text, socklen_t(text.count)) != nil else { return "unknown" }
                return String(cString: text)
            }
            for index in 8..<16 { bytes[index] = 0 }
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "unknown" }
            return String(cString: text) + "/64"
        default:
            return "unknown"
        }
    }
}
