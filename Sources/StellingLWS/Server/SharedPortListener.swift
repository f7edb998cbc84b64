import CWebSockets
import Foundation

/// A listening socket with SO_REUSEPORT, so several processes on one machine share one port and
/// the kernel spreads new connections over them (cluster nodes, `reuse_port`). This libwebsockets
/// sets SO_REUSEPORT only with more than one service thread (LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE
/// alone does nothing here: docs/DECISIONS.md), so Stelling listens itself and hands every accepted
/// socket to lws on the service thread (`lws_adopt_socket_vhost`), where the connection caps count
/// it as they count lws' own accepts.
///
/// One thread blocks in accept(2); `stop` shuts the socket down, which wakes it.
final class SharedPortListener: @unchecked Sendable {
    /// The listening socket.
    let descriptor: Int32
    /// The port it is bound to (the one asked for, or the kernel's pick for 0).
    let port: Int
    private var thread: Thread?

    /// Binds `host`:`port` with SO_REUSEADDR and SO_REUSEPORT and listens.
    init(host: String, port: Int) throws(TransportError) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var found: UnsafeMutablePointer<addrinfo>?
        let lookupHost = host.isEmpty ? nil : (host == "localhost" ? "127.0.0.1" : host)
        let status = getaddrinfo(lookupHost, String(port), &hints, &found)
        guard status == 0, let first = found else {
            throw TransportError(description: "cannot listen on \(host):\(port): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError(description: "cannot listen on \(host):\(port): socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TransportError(description: "cannot share \(host):\(port) (SO_REUSEPORT): \(reason)")
        }
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(fd, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TransportError(description: "cannot listen on \(host):\(port): \(reason) (a process that shares the port needs reuse_port too)")
        }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 ? $0.pointee : nil }
        }
        var boundPort = port
        if bound != nil {
            boundPort = withUnsafePointer(to: &address) { pointer -> Int in
                if Int32(pointer.pointee.ss_family) == AF_INET6 {
                    return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                }
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
        descriptor = fd
        self.port = boundPort
    }

    /// Starts the accept thread. It waits until connections are pending, accepts all of them
    /// (non-blocking, close-on-exec), and hands them to `accepted` together: one hop to the service
    /// thread, and so one more pass of its poll over every descriptor, per burst rather than per
    /// connection (a rush of joins).
    func start(_ accepted: @escaping @Sendable ([Int32]) -> Void) {
        let fd = descriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let thread = Thread {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            var lastHandover = ContinuousClock.now - SharedPortListener.handoverInterval
            var batch: [Int32] = []
            while true {
                ready.revents = 0
                let woken = poll(&ready, 1, 1000)
                if woken < 0 && errno != EINTR { return }
                if woken <= 0 { continue }
                var finished = SharedPortListener.acceptPending(fd, into: &batch)
                // At most one hand-over per interval: in a rush, what arrives meanwhile joins the batch.
                let due = lastHandover + SharedPortListener.handoverInterval
                if !finished, ContinuousClock.now < due {
                    let wait = due - ContinuousClock.now
                    usleep(UInt32(max(0, wait.components.attoseconds / 1_000_000_000_000)))
                    finished = SharedPortListener.acceptPending(fd, into: &batch)
                }
                if !batch.isEmpty {
                    accepted(batch)
                    batch = []
                    lastHandover = .now
                }
                if finished { return }
            }
        }
        thread.name = "stelling-accept"
        self.thread = thread
        thread.start()
    }

    /// The least time between two hand-overs to the service thread (each costs it a wake-up and
    /// a poll pass over every descriptor).
    static let handoverInterval = Duration.milliseconds(5)

    /// Accepts every pending connection (non-blocking, close-on-exec) into `batch`; true when the
    /// socket was shut down.
    static func acceptPending(_ fd: Int32, into batch: inout [Int32]) -> Bool {
        while batch.count < 4096 {
            let client = accept(fd, nil, nil)
            if client >= 0 {
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
                batch.append(client)
                continue
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO:
                continue
            case EAGAIN, EWOULDBLOCK:
                return false
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(10_000)  // out of descriptors: the caps close some; try again shortly
                return false
            default:
                return true  // shut down (EINVAL) or closed
            }
        }
        return false
    }

    /// Stops accepting: the accept thread ends; connections accepted before stay.
    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    deinit {
        close(descriptor)
    }
}
