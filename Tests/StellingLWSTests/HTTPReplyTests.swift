import Testing
@testable import StellingLWS

/// The server's HTTP decisions, without a socket.
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
}
