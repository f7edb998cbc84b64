import CWebSockets

/// An HTTP request whose answer is being made off the service thread.
struct DeferredHTTP {
    var number: UInt64
    var head: Bool
    var response: HTTPResponse?
}

extension WebSocketServer {
    /// HTTP: refusals first (`HTTPReply.refusal`), then the handler, then a deferred answer,
    /// then the static files.
    func httpRequest(_ wsi: OpaquePointer) -> Int32 {
        var uri: UnsafeMutablePointer<CChar>?
        var uriLength: Int32 = 0
        let methodNumber = lws_http_get_uri_and_method(wsi, &uri, &uriLength)
        let path = uri.map {
            String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(uriLength)), as: UTF8.self)
        } ?? "/"
        let method: String? = switch methodNumber {
        case Int32(LWSHUMETH_GET): "GET"
        case Int32(LWSHUMETH_HEAD): "HEAD"
        default: nil
        }
        let head = method == "HEAD"
        if let refusal = HTTPReply.refusal(method: method, admission: admission(wsi), shuttingDown: shuttingDown) {
            return respond(wsi, refusal, head: head, closeAfter: true)
        }
        let request = HTTPRequest(method: method ?? "GET", path: path, query: Headers.queryFields(wsi).joined(separator: "&"),
                                  authorization: Headers.value(wsi, WSI_TOKEN_HTTP_AUTHORIZATION),
                                  host: Headers.value(wsi, WSI_TOKEN_HOST), secure: options.tls != nil,
                                  clientAddress: clientAddress(wsi))
        if let response = handler.httpRequest(request) {
            return respond(wsi, response, head: head, closeAfter: false)
        }
        if takeLater(wsi, request, head: head) { return 0 }
        return respond(wsi, StaticFiles.response(root: options.webRoot, path: path), head: head, closeAfter: false)
    }

    /// CLOSED_HTTP and HTTP_DROP_PROTOCOL: forget what was being written or awaited.
    func httpEnded(_ wsi: OpaquePointer) {
        transfers[wsi] = nil
        deferred[wsi] = nil
    }

    // MARK: Deferred replies

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

    /// HTTP_WRITEABLE with a deferred reply ready: write it.
    func deferredWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard let waiting = deferred.removeValue(forKey: wsi), let response = waiting.response else { return 0 }
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0)
        return respond(wsi, response, head: waiting.head, closeAfter: false)
    }

    // MARK: Writing responses

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

    /// Writes a short response, head and body in one lws_write, for answering in a state
    /// where no HTTP_WRITEABLE will follow (an upgrade refused in HTTP_CONFIRM_UPGRADE, as
    /// lws_return_http_status does). The caller closes the connection by returning -1.
    func respondAndClose(_ wsi: OpaquePointer, _ response: HTTPResponse) -> Bool {
        let extra = HTTPReply.extraHeaders(response, closeAfter: true)
        let space = HTTPReply.headerSpace(response, extra: extra, fixed: fixedHeaders)
        writeBuffer.reserve(space + response.body.count)
        let start = writeBuffer.payload
        let end = start + space
        var cursor: UnsafeMutablePointer<UInt8>? = start
        guard addHeaders(wsi, response, extra, tracked: false, &cursor, end),
              lws_finalize_http_header(wsi, &cursor, end) == 0, let cursor else { return false }
        let headLength = cursor - start
        writeBuffer.copy(response.body, at: headLength)
        return writeBuffer.write(wsi, length: headLength + response.body.count, LWS_WRITE_HTTP)
    }

    /// Writes the status and headers now and queues the body for HTTP_WRITEABLE.
    func respond(_ wsi: OpaquePointer, _ response: HTTPResponse, head: Bool, closeAfter: Bool) -> Int32 {
        let extra = HTTPReply.extraHeaders(response, closeAfter: closeAfter)
        let headerBytes = HTTPReply.headerSpace(response, extra: extra, fixed: fixedHeaders)
        writeBuffer.reserve(headerBytes)
        let start = writeBuffer.payload
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

    /// HTTP_WRITEABLE with a body being sent: the next chunk, the last with LWS_WRITE_HTTP_FINAL.
    func httpWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard var transfer = transfers[wsi] else { return 0 }
        let (range, final) = transfer.nextChunk()
        writeBuffer.copy(transfer.body[range], at: 0)
        if !writeBuffer.write(wsi, length: range.count, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) {
            transfers[wsi] = nil
            return -1
        }
        if final {
            transfers[wsi] = nil
            if transfer.closeAfter { return -1 }
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        }
        transfers[wsi] = transfer
        lws_callback_on_writable(wsi)
        return 0
    }
}
