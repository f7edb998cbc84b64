#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import StellingLWS

/// The server's HTTP decisions and the limiter's address keys, without a socket.
@Suite struct HTTPReplyTests {
    @Test(arguments: [
        (String?("GET"), ConnectionLimiter.Admission.admitted, false, Int?.none),
        ("HEAD", .admitted, false, nil),
        (nil, .admitted, false, 405),
        ("GET", .admitted, true, 503),
        ("GET", .overTotal, false, 503),
        (nil, .overAddress, false, 429),
    ])
    func requestsAreRefusedBeforeTheHandler(method: String?, admission: ConnectionLimiter.Admission,
                                            shuttingDown: Bool, status: Int?) {
        #expect(HTTPReply.refusal(method: method, admission: admission, shuttingDown: shuttingDown)?.status == status)
    }

    @Test func aResponseGetsCacheControlAndTheDefaultPolicyUnlessItHasItsOwn() {
        let plain = HTTPReply.extraHeaders(.text("hi"), closeAfter: true).map(\.name)
        #expect(plain == ["Cache-Control", "Content-Security-Policy", "Connection"])
        let own = HTTPResponse(status: 200, contentType: "text/html",
                               headers: [HTTPHeader("content-security-policy", "default-src 'none'"),
                                         HTTPHeader("Cache-Control", "max-age=60")], body: [])
        #expect(HTTPReply.extraHeaders(own, closeAfter: false) == own.headers)
    }

    @Test func aBodyIsWrittenInChunksTheLastMarkedFinal() {
        var transfer = HTTPTransfer(body: [UInt8](repeating: 1, count: 2 * HTTPTransfer.chunkBytes + 5), closeAfter: false)
        #expect(transfer.nextChunk() == (0..<HTTPTransfer.chunkBytes, false))
        #expect(transfer.nextChunk() == (HTTPTransfer.chunkBytes..<(2 * HTTPTransfer.chunkBytes), false))
        #expect(transfer.nextChunk() == ((2 * HTTPTransfer.chunkBytes)..<(2 * HTTPTransfer.chunkBytes + 5), true))
    }

    @Test(arguments: [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ])
    func peersAreKeyedByAddressOrIPv6Slash64(address: String, key: String) {
        var storage = sockaddr_storage()
        withUnsafeMutablePointer(to: &storage) { pointer in
            if address.contains(":") {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    v6.pointee.sin6_family = sa_family_t(AF_INET6)
                    _ = inet_pton(AF_INET6, address, &v6.pointee.sin6_addr)
                }
            } else {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    v4.pointee.sin_family = sa_family_t(AF_INET)
                    _ = inet_pton(AF_INET, address, &v4.pointee.sin_addr)
                }
            }
        }
        #expect(SocketAddress.limiterKey(&storage) == key)
    }
}
