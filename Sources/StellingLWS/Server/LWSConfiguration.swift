import CWebSockets

/// The C structures libwebsockets keeps pointers to for the whole life of the context:
/// protocols, per-vhost options, the mount, the retry policy, the headers added to every
/// response, the TLS file paths and their strings. Allocated once; freed only after
/// `lws_context_destroy`.
final class LWSConfiguration {
    let protocols: UnsafeMutablePointer<lws_protocols>
    let protocolCount: Int
    let vhostOptions: UnsafeMutablePointer<lws_protocol_vhost_options>
    let defaultOption: UnsafeMutablePointer<lws_protocol_vhost_options>
    let mount: UnsafeMutablePointer<lws_http_mount>
    let retryPolicy: UnsafeMutablePointer<lws_retry_bo_t>
    /// A linked list of headers lws adds to every response it starts with
    /// `lws_add_http_header_status` (ours and its own error pages); nil when empty.
    let responseHeaders: UnsafeMutablePointer<lws_protocol_vhost_options>?
    private let responseHeaderCount: Int
    let iface: UnsafeMutablePointer<CChar>?
    let serverName: UnsafeMutablePointer<CChar>
    let certificatePath: UnsafeMutablePointer<CChar>?
    let privateKeyPath: UnsafeMutablePointer<CChar>?
    /// ALPN offered over TLS: HTTP/1.1 only (see docs/transport.md).
    let alpn: UnsafeMutablePointer<CChar>
    private let strings = CStrings()

    init(subprotocol: String, host: String, echo: Bool, responseHeaders headers: [HTTPHeader], tls: TLSFiles?) {
        let strings = self.strings
        func keep(_ string: String) -> UnsafeMutablePointer<CChar> { strings.keep(string) }
        let httpName = keep("http")
        let subprotocolName = keep(subprotocol)
        let echoName = keep(TransportOptions.echoSubprotocol)
        let defaultName = keep("default")
        let emptyValue = keep("")
        let mountPoint = keep("/")
        serverName = keep("stelling")
        alpn = keep("http/1.1")
        let anyAddress = host.isEmpty || host == "0.0.0.0" || host == "::" || host == "*"
        iface = anyAddress ? nil : keep(host)
        certificatePath = tls.map { keep($0.certificatePath) }
        privateKeyPath = tls.map { keep($0.privateKeyPath) }

        // Every protocol gets room for one pointer per connection: an HTTP connection starts
        // bound to the default protocol (the WebSocket one) and is rebound later.
        let sessionSize = MemoryLayout<UnsafeMutableRawPointer>.size
        protocolCount = echo ? 4 : 3
        protocols = .allocate(capacity: protocolCount)
        protocols.initialize(repeating: lws_protocols(), count: protocolCount)
        protocols[0].name = UnsafePointer(httpName)
        protocols[0].callback = stellingHTTPCallback
        protocols[0].per_session_data_size = sessionSize
        protocols[1].name = UnsafePointer(subprotocolName)
        protocols[1].callback = stellingWebSocketCallback
        protocols[1].per_session_data_size = sessionSize
        if echo {
            // The conformance echo: bound when an upgrade offers "echo" (on /ws or /echo).
            protocols[2].name = UnsafePointer(echoName)
            protocols[2].callback = stellingWebSocketCallback
            protocols[2].per_session_data_size = sessionSize
        }

        // Marks the subprotocol "default" so an upgrade that offers none binds to it
        // instead of to protocols[0] (LIBWEBSOCKETS.md).
        defaultOption = .allocate(capacity: 1)
        defaultOption.initialize(to: lws_protocol_vhost_options())
        defaultOption.pointee.name = UnsafePointer(defaultName)
        defaultOption.pointee.value = UnsafePointer(emptyValue)
        vhostOptions = .allocate(capacity: 1)
        vhostOptions.initialize(to: lws_protocol_vhost_options())
        vhostOptions.pointee.name = UnsafePointer(subprotocolName)
        vhostOptions.pointee.value = UnsafePointer(emptyValue)
        vhostOptions.pointee.options = UnsafePointer(defaultOption)

        // Every HTTP request goes to the "http" protocol's callback, which answers dynamic
        // endpoints and static files itself.
        mount = .allocate(capacity: 1)
        mount.initialize(to: lws_http_mount())
        mount.pointee.mountpoint = UnsafePointer(mountPoint)
        mount.pointee.origin = UnsafePointer(httpName)
        mount.pointee.origin_protocol = UInt8(LWSMPRO_CALLBACK.rawValue)
        mount.pointee.mountpoint_len = 1

        // Zero ping and hang-up times: no validity timer per connection (O(n) insertion in
        // lws 4.1); the server's own periodic sweep keeps connections alive instead.
        retryPolicy = .allocate(capacity: 1)
        retryPolicy.initialize(to: lws_retry_bo_t())

        // Names carry their colon: lws writes them as given.
        responseHeaderCount = headers.count
        if headers.isEmpty {
            responseHeaders = nil
        } else {
            let list = UnsafeMutablePointer<lws_protocol_vhost_options>.allocate(capacity: headers.count)
            list.initialize(repeating: lws_protocol_vhost_options(), count: headers.count)
            for (index, header) in headers.enumerated() {
                list[index].name = UnsafePointer(keep(header.name.lowercased() + ":"))
                list[index].value = UnsafePointer(keep(header.value))
                if index + 1 < headers.count { list[index].next = UnsafePointer(list + index + 1) }
            }
            responseHeaders = list
        }
    }

    deinit {
        protocols.deinitialize(count: protocolCount)
        protocols.deallocate()
        defaultOption.deallocate()
        vhostOptions.deallocate()
        mount.deallocate()
        retryPolicy.deallocate()
        if let responseHeaders {
            responseHeaders.deinitialize(count: responseHeaderCount)
            responseHeaders.deallocate()
        }
    }
}
