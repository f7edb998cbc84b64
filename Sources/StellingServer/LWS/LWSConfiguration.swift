import CWebSockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C structures libwebsockets keeps pointers to for the whole life of the context:
/// protocols, per-vhost options, the mount, the retry policy and their strings.
/// Allocated once; freed only after `lws_context_destroy`.
final class LWSConfiguration {
    let protocols: UnsafeMutablePointer<lws_protocols>
    let vhostOptions: UnsafeMutablePointer<lws_protocol_vhost_options>
    let defaultOption: UnsafeMutablePointer<lws_protocol_vhost_options>
    let mount: UnsafeMutablePointer<lws_http_mount>
    let retryPolicy: UnsafeMutablePointer<lws_retry_bo_t>
    let iface: UnsafeMutablePointer<CChar>?
    let serverName: UnsafeMutablePointer<CChar>
    private var strings: [UnsafeMutablePointer<CChar>] = []

    init(subprotocol: String, host: String) {
        func keep(_ string: String) -> UnsafeMutablePointer<CChar> {
            let copy = strdup(string)!
            return copy
        }
        let httpName = keep("http")
        let subprotocolName = keep(subprotocol)
        let defaultName = keep("default")
        let emptyValue = keep("")
        let mountPoint = keep("/")
        serverName = keep("stelling")
        let anyAddress = host.isEmpty || host == "0.0.0.0" || host == "::" || host == "*"
        iface = anyAddress ? nil : keep(host)
        strings = [httpName, subprotocolName, defaultName, emptyValue, mountPoint, serverName]
        if let iface { strings.append(iface) }

        // Both protocols get room for one pointer per connection: an HTTP connection starts
        // bound to the default protocol (the WebSocket one) and is rebound later.
        let sessionSize = MemoryLayout<UnsafeMutableRawPointer>.size
        protocols = .allocate(capacity: 3)
        protocols.initialize(repeating: lws_protocols(), count: 3)
        protocols[0].name = UnsafePointer(httpName)
        protocols[0].callback = stellingHTTPCallback
        protocols[0].per_session_data_size = sessionSize
        protocols[1].name = UnsafePointer(subprotocolName)
        protocols[1].callback = stellingWebSocketCallback
        protocols[1].per_session_data_size = sessionSize

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
    }

    deinit {
        protocols.deinitialize(count: 3)
        protocols.deallocate()
        defaultOption.deallocate()
        vhostOptions.deallocate()
        mount.deallocate()
        retryPolicy.deallocate()
        for string in strings { free(string) }
    }
}
